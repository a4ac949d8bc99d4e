// Command sealgate-open is the officer's offline opener of sealed packages
// (pure Go, no cgo; also built for Windows); see appliance/opener.
package main

import (
	"context"
	"os"

	"sealgate/appliance/opener"
)

func main() {
	os.Exit(opener.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
