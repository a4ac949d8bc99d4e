// Command sealgate-outer is the Sealgate outer appliance daemon; see appliance/outerd.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"sealgate/appliance/outerd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := outerd.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}
