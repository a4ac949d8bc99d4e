// Package opener is sealgate-open, the officer's offline opener of sealed
// packages: verify a package against the control center's signing key,
// inspect its manifest, decrypt an offline (password-wrapped) package. It
// is pure Go so it also builds for the police's Windows PCs.
package opener

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"sealgate/appliance/cli"
	"sealgate/shared/buildinfo"
	"sealgate/shared/keys"
	"sealgate/shared/seal"
)

type env struct{ stdout, stderr io.Writer }

type root struct {
	Verify  verifyCmd  `cmd:"" help:"Check that a package is intact and signed by the given key; exit 0 only then."`
	Decrypt decryptCmd `cmd:"" help:"Decrypt a package within its viewing period: with its password (offline), or with a license from the portal (--portal)."`
	Play    playCmd    `cmd:"" help:"Play a package within its viewing period without writing the video to disk: the decrypted stream goes to a player's standard input."`
	Inspect inspectCmd `cmd:"" help:"Verify a package and print its manifest."`
	Version versionCmd `cmd:"" help:"Print the version."`
}

// Main runs sealgate-open with args (without the program name).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cli.Run(ctx, "sealgate-open", &root{}, args, stdout, stderr, kong.Vars{}, &env{stdout: stdout, stderr: stderr})
}

type verifyCmd struct {
	Signer  string `required:"" help:"Who must have signed: the control center's signing.pub, or its key id as the hand-over slip prints it (sha256:…)."`
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
	Signer  string `help:"Who must have signed: the control center's signing.pub, or its key id as the hand-over slip prints it (sha256:…); without it the signer is only reported."`
	Package string `arg:"" type:"existingfile" help:"Package file."`
	JSON    bool   `help:"Print one JSON object."`
}

func (c *inspectCmd) Run(e *env) error {
	p, err := open(c.Package, c.Signer)
	if err != nil {
		return err
	}
	if c.JSON {
		return cli.PrintJSON(e.stdout, map[string]any{"manifest": p.Manifest, "size": p.Size, "signed_by": seal.KeyID(p.Signer),
			"signer_pinned": c.Signer != ""})
	}
	printManifest(e.stdout, p.Manifest)
	if c.Signer != "" {
		fmt.Fprintf(e.stdout, "\nSigned by %s, the key you named.\n", seal.KeyID(p.Signer))
	} else {
		unpinned(e.stdout, p)
	}
	return nil
}

// keyFlags say how to open a package's key: its password (offline), or a
// license from the portal it was downloaded from.
type keyFlags struct {
	PasswordFile string `type:"existingfile" help:"File holding the package's password; with --portal, your portal account's password."`
	Signer       string `help:"Who must have signed: the control center's signing.pub, or its key id as the hand-over slip prints it (sha256:…); without it the signer is only reported."`
	Portal       string `help:"The police portal (https://…) a package was downloaded from: sign in there and obtain its key by license (one play) instead of a password."`
	PortalPin    string `name:"portal-fingerprint" help:"The portal's certificate fingerprint (sha256:…) for a self-signed portal; without it the system's CAs must vouch for it."`
	Username     string `help:"Your portal account (with --portal)."`
	TOTP         string `name:"totp" help:"With --portal: the code your authenticator shows now, or an unused recovery code."`
	Package      string `arg:"" type:"existingfile" help:"Package file."`
}

// open verifies the package, checks its window and opens its key; the
// caller closes the file.
func (c *keyFlags) open(ctx context.Context, e *env) (*os.File, *seal.Package, *seal.Key, error) {
	if c.PasswordFile == "" {
		return nil, nil, nil, errors.New("--password-file is required (the package's password, or with --portal your account's)")
	}
	if c.Portal != "" && (c.Username == "" || c.TOTP == "") {
		return nil, nil, nil, errors.New("--portal needs --username and --totp as well")
	}
	f, p, err := openFile(c.Package, c.Signer)
	if err != nil {
		return nil, nil, nil, err
	}
	k, err := func() (*seal.Key, error) {
		if err := checkWindow(p.Manifest, time.Now()); err != nil {
			return nil, err
		}
		password, err := seal.ReadPasswordFile(c.PasswordFile)
		if err != nil {
			return nil, err
		}
		if c.Portal != "" {
			return c.licensed(ctx, e, f, p, string(password))
		}
		return p.UnwrapPassword(password)
	}()
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	return f, p, k, nil
}

type decryptCmd struct {
	Out      string `required:"" help:"Video file to create (never overwritten)."`
	keyFlags `embed:""`
}

func (c *decryptCmd) Run(ctx context.Context, e *env) error {
	f, p, k, err := c.open(ctx, e)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := p.DecryptFile(f, k, c.Out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Decrypted %s to %s (%d bytes; SHA-256 %s matches the manifest signed by %s).\n", c.Package, c.Out, p.PayloadSize,
		p.Manifest.DeliveredSHA256, seal.KeyID(p.Signer))
	if c.Signer == "" {
		unpinned(e.stdout, p)
	}
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

// unpinned says that the signature was checked against the key the
// package names for itself: it proves the package intact, not who made it.
func unpinned(w io.Writer, p *seal.Package) {
	fmt.Fprintf(w, "\nThe signer %s was not pinned: compare it with the hand-over slip's signer key, or pass --signer.\n", seal.KeyID(p.Signer))
}

// ErrSignerNotNamed: the package was signed by another key than the one
// the user named.
var ErrSignerNotNamed = errors.New("the package is signed by another key than the one named with --signer")

// openFile opens and verifies a package against the signer the user
// named: a signing.pub file, or a key id (sha256:…) from the hand-over
// slip, compared with the key that verified the signature (never with
// what the manifest says of itself).
func openFile(path, signer string) (*os.File, *seal.Package, error) {
	if signer == "" {
		return seal.OpenFile(path, nil)
	}
	if id, ok := strings.CutPrefix(signer, "sha256:"); ok {
		if len(id) != 64 || strings.Trim(strings.ToLower(id), "0123456789abcdef") != "" {
			return nil, nil, fmt.Errorf("--signer %s: a key id is sha256: and 64 hex digits", signer)
		}
		f, p, err := seal.OpenFile(path, nil)
		if err != nil {
			return nil, nil, err
		}
		if got := seal.KeyID(p.Signer); got != "sha256:"+strings.ToLower(id) {
			f.Close()
			return nil, nil, fmt.Errorf("%w: signed by %s, named %s", ErrSignerNotNamed, got, signer)
		}
		return f, p, nil
	}
	pub, err := keys.ReadSigningPub(signer)
	if err != nil {
		return nil, nil, fmt.Errorf("--signer: %w", err)
	}
	return seal.OpenFile(path, pub)
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
