// Package opener is sealgate-open, the officer's offline opener of sealed
// packages: verify a package against the control center's signing key,
// inspect its manifest, decrypt an offline (password-wrapped) package. It
// is pure Go so it also builds for the police's Windows PCs.
package opener

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/alecthomas/kong"

	"sealgate/appliance/cli"
	"sealgate/shared/buildinfo"
	"sealgate/shared/keys"
	"sealgate/shared/seal"
)

type env struct{ stdout io.Writer }

type root struct {
	Verify  verifyCmd  `cmd:"" help:"Check that a package is intact and signed by the given key; exit 0 only then."`
	Decrypt decryptCmd `cmd:"" help:"Decrypt an offline package with its password, within its viewing period."`
	Inspect inspectCmd `cmd:"" help:"Verify a package and print its manifest."`
	Version versionCmd `cmd:"" help:"Print the version."`
}

// Main runs sealgate-open with args (without the program name).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cli.Run(ctx, "sealgate-open", &root{}, args, stdout, stderr, kong.Vars{}, &env{stdout: stdout})
}

type verifyCmd struct {
	Signer  string `required:"" type:"existingfile" help:"The control center's signing.pub."`
	Package string `arg:"" type:"existingfile" help:"Package file."`
	JSON    bool   `help:"Print one JSON object."`
}

func (c *verifyCmd) Run(e *env) error {
	p, err := open(c.Package, c.Signer)
	if err != nil {
		return err
	}
	m := p.Manifest
	if c.JSON {
		return cli.PrintJSON(e.stdout, map[string]any{"ok": true, "export_code": m.ExportCode, "signer_key_id": m.SignerKeyID, "size": p.Size, "delivered_sha256": m.DeliveredSHA256})
	}
	fmt.Fprintf(e.stdout, "OK: %s is intact and signed by %s\n", c.Package, m.SignerKeyID)
	return nil
}

type inspectCmd struct {
	Signer  string `type:"existingfile" help:"The control center's signing.pub; without it the signature is checked against the key the package names, which proves integrity but not who signed."`
	Package string `arg:"" type:"existingfile" help:"Package file."`
	JSON    bool   `help:"Print one JSON object."`
}

func (c *inspectCmd) Run(e *env) error {
	p, err := open(c.Package, c.Signer)
	if err != nil {
		return err
	}
	if c.JSON {
		return cli.PrintJSON(e.stdout, map[string]any{"manifest": p.Manifest, "size": p.Size, "signer_pinned": c.Signer != ""})
	}
	printManifest(e.stdout, p.Manifest)
	if c.Signer == "" {
		fmt.Fprintf(e.stdout, "\nSignature valid, but the signer %s was not pinned: pass --signer signing.pub to prove who signed.\n", p.Manifest.SignerKeyID)
	}
	return nil
}

type decryptCmd struct {
	PasswordFile string `required:"" type:"existingfile" help:"File holding the package's password."`
	Out          string `required:"" help:"Video file to create (never overwritten)."`
	Signer       string `type:"existingfile" help:"The control center's signing.pub, to check who signed."`
	Package      string `arg:"" type:"existingfile" help:"Package file."`
}

func (c *decryptCmd) Run(e *env) error {
	f, p, err := openFile(c.Package, c.Signer)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := checkWindow(p.Manifest, time.Now()); err != nil {
		return err
	}
	password, err := seal.ReadPasswordFile(c.PasswordFile)
	if err != nil {
		return err
	}
	k, err := p.UnwrapPassword(password)
	if err != nil {
		return err
	}
	if err := p.DecryptFile(f, k, c.Out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Decrypted %s to %s (%d bytes; SHA-256 %s matches the signed manifest).\n", c.Package, c.Out, p.PayloadSize, p.Manifest.DeliveredSHA256)
	return nil
}

type versionCmd struct {
	JSON bool `help:"Print one JSON object."`
}

func (c *versionCmd) Run(e *env) error {
	if c.JSON {
		return cli.PrintJSON(e.stdout, map[string]string{"name": "sealgate-open", "version": buildinfo.Version, "go": buildinfo.GoVersion()})
	}
	fmt.Fprintf(e.stdout, "sealgate-open %s (%s)\n", buildinfo.Version, buildinfo.GoVersion())
	return nil
}

func open(path, signerPath string) (*seal.Package, error) {
	f, p, err := openFile(path, signerPath)
	if err != nil {
		return nil, err
	}
	f.Close()
	return p, nil
}

func openFile(path, signerPath string) (*os.File, *seal.Package, error) {
	var signer ed25519.PublicKey
	if signerPath != "" {
		var err error
		if signer, err = keys.ReadSigningPub(signerPath); err != nil {
			return nil, nil, err
		}
	}
	return seal.OpenFile(path, signer)
}

// checkWindow refuses to decrypt outside the manifest's viewing period:
// copies must not be viewable after their period ends (PIPA; docs/architecture.md, "Trust rules" 7).
func checkWindow(m *seal.Manifest, now time.Time) error {
	switch {
	case !m.ViewFrom.IsZero() && now.Before(m.ViewFrom):
		return fmt.Errorf("the viewing period of %s starts %s; it cannot be opened before", m.ExportCode, m.ViewFrom.Local().Format(time.DateTime))
	case !m.ViewUntil.IsZero() && !now.Before(m.ViewUntil):
		return fmt.Errorf("the viewing period of %s ended %s; the package must be destroyed", m.ExportCode, m.ViewUntil.Local().Format(time.DateTime))
	}
	return nil
}
