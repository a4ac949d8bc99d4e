package innerd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
	"unicode/utf8"

	"sealgate/appliance/cli"
	"sealgate/appliance/daemon"
	"sealgate/shared/buildinfo"
	"sealgate/shared/keys"
	"sealgate/shared/seal"
)

type sealCmd struct {
	In           string   `required:"" type:"existingfile" help:"Video to seal."`
	Out          string   `required:"" help:"Package file to create (never overwritten)."`
	To           []string `type:"existingfile" help:"License public key (license.pub) of the outer appliance to seal to; repeatable."`
	KeyDir       string   `required:"" type:"existingdir" help:"Inner key directory (holds the signing key)."`
	PasswordFile string   `type:"existingfile" help:"File with a password for offline hand-over (an Argon2id wrap); at least 12 characters."`
	Manifest     string   `type:"existingfile" help:"JSON manifest: export_code, camera, time range, reason_code, recipient, viewing window…"`
	JSON         bool     `help:"Print one JSON object."`
}

func (c *sealCmd) Run(app *daemon.App) error {
	k, err := keys.LoadInner(c.KeyDir)
	if err != nil {
		return err
	}
	opts := seal.Options{Signer: k.Signing}
	var recipients []string
	for _, path := range c.To {
		pub, err := keys.ReadLicensePub(path)
		if err != nil {
			return err
		}
		opts.Recipients = append(opts.Recipients, pub)
		recipients = append(recipients, keys.LicenseFingerprint(pub))
	}
	if c.PasswordFile != "" {
		if opts.Password, err = seal.ReadPasswordFile(c.PasswordFile); err != nil {
			return err
		}
		if n := utf8.RuneCount(opts.Password); n < 12 {
			return fmt.Errorf("the package password has %d characters; use at least 12 (it guards footage on removable media)", n)
		}
	}
	if len(opts.Recipients) == 0 && opts.Password == nil {
		return errors.New("nobody could open the package: give --to LICENSE.pub (online delivery), --password-file (offline hand-over), or both")
	}
	m, err := readManifest(c.Manifest)
	if err != nil {
		return err
	}
	if !m.ViewUntil.IsZero() && m.ViewUntil.Before(time.Now()) {
		return fmt.Errorf("manifest view_until %s is in the past: the package could never be viewed", m.ViewUntil.Format(time.RFC3339))
	}
	m.ToolVersions = map[string]string{"sealgate-inner": buildinfo.Version}
	sealed, err := seal.SealFile(c.In, c.Out, *m, opts)
	if err != nil {
		return err
	}
	fi, err := os.Stat(c.Out)
	if err != nil {
		return err
	}
	if c.JSON {
		return cli.PrintJSON(app.Stdout, map[string]any{
			"package": c.Out, "size": fi.Size(), "export_code": sealed.ExportCode,
			"delivered_sha256": sealed.DeliveredSHA256, "signer_key_id": sealed.SignerKeyID,
			"recipients": recipients, "password_wrap": opts.Password != nil,
		})
	}
	fmt.Fprintf(app.Stdout, "Sealed %s into %s (%d bytes).\n  video SHA-256: %s\n  signed by:     %s\n",
		c.In, c.Out, fi.Size(), sealed.DeliveredSHA256, sealed.SignerKeyID)
	for _, r := range recipients {
		fmt.Fprintf(app.Stdout, "  sealed to:     license key %s\n", r)
	}
	if opts.Password != nil {
		fmt.Fprintln(app.Stdout, "  password wrap: yes (hand the password over separately from the package)")
	}
	return nil
}

// readManifest reads a manifest file strictly; an absent file is an empty manifest.
func readManifest(path string) (*seal.Manifest, error) {
	var m seal.Manifest
	if path == "" {
		return &m, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	return &m, nil
}
