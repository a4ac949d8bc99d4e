// Command sealgate-inner is the Sealgate inner appliance daemon; see appliance/innerd.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"sealgate/appliance/innerd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := innerd.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}
