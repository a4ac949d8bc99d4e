package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"sealgate/appliance/daemon/scripttest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"sealgate-inner": main})
}

// TestCLI checks the command-line contracts (docs/architecture.md,
// "Contracts") in testdata/*.txtar.
func TestCLI(t *testing.T) { scripttest.Run(t) }
