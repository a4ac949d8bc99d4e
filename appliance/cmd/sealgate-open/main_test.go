package main

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"sealgate/appliance/daemon/scripttest"
	"sealgate/appliance/innerd"
	"sealgate/appliance/outerd"
)

// The package scripts need all three binaries: the inner seals, the outer
// holds the license key, the opener verifies and decrypts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sealgate-open": main,
		"sealgate-inner": func() {
			os.Exit(innerd.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Environ()))
		},
		"sealgate-outer": func() {
			os.Exit(outerd.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Environ()))
		},
	})
}

// TestCLI checks the package contracts (docs/architecture.md, "Contracts")
// in testdata/*.txtar.
func TestCLI(t *testing.T) { scripttest.Run(t) }
