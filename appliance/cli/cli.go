// Package cli runs the Sealgate binaries' kong command trees with the
// conventions of docs/architecture.md, "Contracts": errors print as
// "name: error" with a non-zero exit, and nothing calls os.Exit, so tests
// run main in-process.
package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/alecthomas/kong"
)

// exit unwinds kong's help and usage exits without ending the process.
type exit int

// Run parses args into root and runs the chosen command's Run method, which
// may take ctx, and any of binds. It returns the exit status: 0, 1 for a
// failed command, 2 for a usage error.
func Run(ctx context.Context, name string, root any, args []string, stdout, stderr io.Writer, vars kong.Vars, binds ...any) (code int) {
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(exit)
			if !ok {
				panic(r)
			}
			code = int(c)
		}
	}()
	opts := []kong.Option{kong.Name(name), kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { panic(exit(c)) }), kong.UsageOnError(),
		kong.BindTo(ctx, (*context.Context)(nil)), vars}
	for _, b := range binds {
		opts = append(opts, kong.Bind(b))
	}
	parser, err := kong.New(root, opts...)
	if err != nil {
		panic(err) // a malformed command struct is a programming error
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	if err := kctx.Run(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

// PrintJSON writes v as one JSON object on a line, for --json.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
