package innerd

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"strings"

	"sealgate/appliance/cli"
	"sealgate/appliance/daemon"
	"sealgate/inner/export"
	"sealgate/inner/pipeline"
	"sealgate/shared/atomicfile"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/seal"
)

// exportHandoverCmd gives an offline export to the officer: the sealed
// file copied out once (to removable media), its password shown once, and
// the hand-over slip to print.
type exportHandoverCmd struct {
	daemon.ConfigFlag
	asFlag
	ID   int64  `arg:"" help:"Export id (an offline export in state ready)."`
	Out  string `required:"" help:"Where to write the sealed package (a file on the removable medium; never overwritten)."`
	JSON bool   `help:"Print one JSON object."`
}

func (c *exportHandoverCmd) Run(ctx context.Context, app *daemon.App) error {
	if err := atomicfile.CheckAbsent(c.Out); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return withWorkflow(ctx, app, c.Config, c.As, false, func(cfg *config.Inner, wf *export.Workflow, a export.Actor) error {
		k, err := keys.LoadInner(cfg.KeyDir)
		if err != nil {
			return err
		}
		e, password, err := pipeline.HandOver(ctx, wf, cfg.Pipeline.WorkDir, a, c.ID, func(e *export.Export) error {
			return copyOut(e.PackagePath, c.Out)
		})
		if err != nil {
			return err
		}
		// Handed over and on record: the package leaves the appliance; the
		// officer holds the only copy of it and of the password.
		os.Remove(e.PackagePath)
		slip := pipeline.NewSlip(e, c.Out, seal.KeyID(k.Signing.Public().(ed25519.PublicKey)), password)
		if c.JSON {
			return cli.PrintJSON(app.Stdout, slip)
		}
		printSlip(app.Stdout, slip)
		return nil
	})
}

// copyOut writes the sealed package to out, create-only and synced.
func copyOut(src, out string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := atomicfile.Create(out, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, in); err != nil {
		f.Abort()
		return fmt.Errorf("copy the package to %s: %w", out, err)
	}
	return f.Commit()
}

// printSlip writes the slip as text, to print beside the medium.
func printSlip(w io.Writer, s pipeline.Slip) {
	rule := strings.Repeat("─", 64)
	fmt.Fprintf(w, "%s\n반출 영상 인계증 · Export hand-over slip\n%s\n", rule, rule)
	fmt.Fprintf(w, "반출 코드 / Export code:      %s\n수신 / Recipient:             %s (%s)\n공문 번호 / Document no.:     %s\n",
		s.Code, s.Recipient, s.Agency, s.DocumentNo)
	fmt.Fprintf(w, "패키지 / Package:             %s\nSHA-256:                      %s\n서명 키 / Signer:             %s\n",
		s.Package, s.PackageSHA256, s.Signer)
	fmt.Fprintf(w, "%s\n열기 / To open:\n  sealgate-open decrypt --signer %s --password-file PASSWORD.txt --out video.mp4 %s\n",
		rule, s.Signer, s.Package)
	fmt.Fprintf(w, "%s\n암호 (한 번만 표시, 매체와 따로 전달) / Password (shown once; hand it over apart from the medium):\n  %s\n%s\n",
		rule, s.Password, rule)
}
