// Command sealgate-release makes release keys and signed release bundles
// for `make release` (docs/updates.md). It runs on the release machine,
// where the release key is kept offline; appliances hold only release.pub.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"

	"sealgate/appliance/cli"
	"sealgate/shared/keys"
	"sealgate/shared/update"
)

// output is where a command prints; bound for the commands by type.
type output struct{ w io.Writer }

type releaseCLI struct {
	Keygen keygenCmd `cmd:"" help:"Create release.key (0600, keep it offline) and release.pub (install it on the appliances) in a directory."`
	Bundle bundleCmd `cmd:"" help:"Write a signed release bundle of the given files."`
}

type keygenCmd struct {
	Out string `required:"" help:"Directory to create the key pair in (mode 0700); existing keys are never overwritten."`
}

func (c *keygenCmd) Run(o *output) error {
	stdout := o.w
	fp, err := update.Keygen(c.Out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "release key in %s/release.key (keep it offline), public key %s/release.pub\nfingerprint: %s\ncompare:     %s\n",
		c.Out, c.Out, fp, keys.Grouped(fp))
	return nil
}

type bundleCmd struct {
	Key     string   `required:"" type:"existingfile" help:"The release key (release.key, mode 0600)."`
	Kind    string   `required:"" enum:"inner,outer" help:"The daemon the release is for: inner or outer."`
	Version string   `required:"" help:"Semantic version, e.g. v1.2.3 (what the binaries' buildinfo.Version says)."`
	GOOS    string   `name:"goos" default:"${goos}" help:"Platform the binaries are for."`
	GOARCH  string   `name:"goarch" default:"${goarch}" help:"Architecture the binaries are for."`
	Out     string   `required:"" help:"Bundle file to write (.tar.gz)."`
	Files   []string `arg:"" type:"existingfile" help:"Files of the release: the binary and its SBOM."`
}

func (c *bundleCmd) Run(o *output) error {
	stdout := o.w
	priv, err := update.ReadPrivateKey(c.Key)
	if err != nil {
		return err
	}
	m, err := update.Write(c.Out, update.Release{Kind: c.Kind, Version: c.Version, GOOS: c.GOOS, GOARCH: c.GOARCH, Files: c.Files}, priv)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: sealgate-%s %s for %s/%s\n", c.Out, m.Kind, m.Version, m.GOOS, m.GOARCH)
	for _, f := range m.Files {
		fmt.Fprintf(stdout, "  %s  %s  %d bytes\n", f.SHA256, f.Name, f.Size)
	}
	return nil
}

func main() {
	vars := map[string]string{"goos": runtime.GOOS, "goarch": runtime.GOARCH}
	os.Exit(cli.Run(context.Background(), "sealgate-release", &releaseCLI{}, os.Args[1:], os.Stdout, os.Stderr, vars, &output{os.Stdout}))
}
