package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"sealgate/inner/export"
	"sealgate/shared/atomicfile"
)

// HandOverWindow is how long an offline package handed over in the console
// waits for its one download; then it is deleted (the officer asks again:
// a new export).
const HandOverWindow = time.Hour

// HandOver gives offline export id to the officer through wf: take copies
// the sealed package out while the export's row is locked (nil when the
// caller serves it afterwards, once); the hand-over password is returned
// and deleted from the appliance, which never holds it again.
func HandOver(ctx context.Context, wf *export.Workflow, workDir string, a export.Actor, id int64, take func(e *export.Export) error) (*export.Export, string, error) {
	pwPath := PasswordPath(workDir, id)
	e, password, err := wf.HandOver(ctx, a, id, func(e *export.Export) (string, error) {
		pw, err := os.ReadFile(pwPath)
		if err != nil {
			return "", fmt.Errorf("the hand-over password of export %d: %w", e.ID, err)
		}
		if take != nil {
			if err := take(e); err != nil {
				return "", err
			}
		}
		return string(pw), nil
	})
	if err != nil {
		return nil, "", err
	}
	if err := os.Remove(pwPath); err != nil {
		return e, password, fmt.Errorf("pipeline: delete the hand-over password of export %d: %w", id, err)
	}
	return e, password, nil
}

// ExpireHandOvers deletes the sealed packages of offline exports handed
// over before cutoff and never downloaded.
func ExpireHandOvers(ctx context.Context, wf *export.Workflow, cutoff time.Time) (int, error) {
	paths, err := wf.HandedOver(ctx, cutoff)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range paths {
		err := os.Remove(p)
		switch {
		case err == nil:
			n++
		case !errors.Is(err, fs.ErrNotExist):
			return n, fmt.Errorf("pipeline: delete a handed-over package: %w", err)
		}
	}
	return n, nil
}

// Slip is the hand-over slip the officer signs for and keeps: what was
// handed over, how to check it, how to open it. The password goes apart
// from the medium.
type Slip struct {
	Code          string    `json:"code"`
	Package       string    `json:"package"`
	PackageSHA256 string    `json:"package_sha256"`
	Recipient     string    `json:"recipient"`
	Agency        string    `json:"agency"`
	DocumentNo    string    `json:"document_no"`
	Signer        string    `json:"signer_key_id"`
	Password      string    `json:"password"`
	At            time.Time `json:"handed_over_at"`
}

// NewSlip is e's slip: its package (as the officer receives it), signed
// by the key with id signer, opened with password.
func NewSlip(e *export.Export, pkg, signer, password string) Slip {
	return Slip{Code: e.Code, Package: pkg, PackageSHA256: e.PackageSHA256, Recipient: e.Recipient, Agency: e.Agency,
		DocumentNo: e.DocumentNo, Signer: signer, Password: password, At: time.Now().UTC()}
}

// KeepPassword keeps the password a requester chose for offline export id
// where its seal stage takes it (0600, create-only).
func KeepPassword(workDir string) func(id int64, password string) error {
	return func(id int64, password string) error {
		path := PasswordPath(workDir, id)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("pipeline: keep the hand-over password: %w", err)
		}
		f, err := atomicfile.Create(path, 0o600)
		if err != nil {
			return fmt.Errorf("pipeline: keep the hand-over password: %w", err)
		}
		if _, err := f.Write([]byte(password)); err != nil {
			f.Abort()
			return fmt.Errorf("pipeline: keep the hand-over password: %w", err)
		}
		return f.Commit()
	}
}

// RenderedPath is export id's masked and marked copy while it waits to be
// sealed (the approver's preview).
func RenderedPath(workDir string, id int64) string {
	return filepath.Join(workDir, strconv.FormatInt(id, 10), renderedFile)
}

// RemoveCancelled deletes what cancelled exports left in the work
// directory (a rendered copy that was never released).
func RemoveCancelled(ctx context.Context, wf *export.Workflow, workDir string) error {
	ids, err := wf.Cancelled(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := os.RemoveAll(filepath.Join(workDir, strconv.FormatInt(id, 10))); err != nil {
			return fmt.Errorf("pipeline: remove the files of cancelled export %d: %w", id, err)
		}
	}
	return nil
}
