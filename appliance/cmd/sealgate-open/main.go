// Command sealgate-open is the officer's offline opener of sealed packages:
// pure Go, no cgo, also built for Windows. The package commands (verify,
// decrypt, inspect) arrive with the sealed package format (docs/package-format.md).
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"sealgate/shared/buildinfo"
)

const usage = `Usage: sealgate-open <command>

Commands:
  version [--json]   Print the version.
`

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Print(usage)
		return 0
	}
	switch {
	case args[0] == "version" && len(args) == 1:
		fmt.Printf("sealgate-open %s (%s)\n", buildinfo.Version, buildinfo.GoVersion())
	case args[0] == "version" && len(args) == 2 && args[1] == "--json":
		json.NewEncoder(os.Stdout).Encode(map[string]string{"name": "sealgate-open", "version": buildinfo.Version, "go": buildinfo.GoVersion()})
	default:
		fmt.Fprintf(os.Stderr, "sealgate-open: unknown command %q\n%s", args[0], usage)
		return 2
	}
	return 0
}
