// Package buildinfo holds the release version, set at link time by the
// Makefile (-X sealgate/shared/buildinfo.Version=…).
package buildinfo

import "runtime"

// Version is the release, e.g. v0.1.0-12-gabc1234; "dev" for go run and go test.
var Version = "dev"

// GoVersion is the toolchain the binary was built with.
func GoVersion() string { return runtime.Version() }
