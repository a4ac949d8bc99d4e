// Package nvrimport takes footage in from a folder an NVR exports to
// (footage.import_dir): one subfolder per camera, named by the camera's
// VMS id or its name. A file is ingested once it has stopped growing; the
// ingested copy is the original from then on and the file leaves the
// folder. A file that cannot be footage moves to .rejected/ beside a note
// saying why, so nothing is lost and nothing is tried twice
// (docs/architecture.md, "The export workflow").
package nvrimport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sealgate/inner/export"
	"sealgate/inner/video"
)

// Rejected is the folder, inside the import folder, where refused files go.
const Rejected = ".rejected"

// settle is how long a file must be unchanged (size and time) before it
// is taken: an NVR writing a long export must be done first.
const settle = 5 * time.Second

// Importer sweeps one import folder into the workflow.
type Importer struct {
	wf   *export.Workflow
	dir  string
	log  *slog.Logger
	seen map[string]stamp // what each file looked like at the last sweep
}

type stamp struct {
	size int64
	mod  time.Time
}

// New returns the importer of dir.
func New(wf *export.Workflow, dir string, log *slog.Logger) *Importer {
	return &Importer{wf: wf, dir: dir, log: log, seen: map[string]stamp{}}
}

// Result is what one sweep did.
type Result struct {
	Imported []*export.Footage
	Rejected []string // the files moved to .rejected/, as named in the folder
}

// Sweep ingests every file that was there, unchanged, at the previous
// sweep and at least settle ago. Errors that may pass (the database, a
// full disk) leave the file for the next sweep and are returned.
func (im *Importer) Sweep(ctx context.Context, now time.Time) (Result, error) {
	var res Result
	cams, err := im.wf.Cameras(ctx, false)
	if err != nil {
		return res, err
	}
	entries, err := os.ReadDir(im.dir)
	if err != nil {
		return res, fmt.Errorf("nvrimport: %w", err)
	}
	seen := map[string]stamp{}
	var errs []error
	for _, camDir := range entries {
		if !camDir.IsDir() || strings.HasPrefix(camDir.Name(), ".") {
			continue
		}
		files, err := os.ReadDir(filepath.Join(im.dir, camDir.Name()))
		if err != nil {
			errs = append(errs, fmt.Errorf("nvrimport: %w", err))
			continue
		}
		for _, de := range files {
			name := filepath.Join(camDir.Name(), de.Name())
			if strings.HasPrefix(de.Name(), ".") || !de.Type().IsRegular() {
				continue // hidden files are the NVR's work in progress
			}
			fi, err := de.Info()
			if err != nil {
				continue // gone since the listing
			}
			st := stamp{fi.Size(), fi.ModTime()}
			seen[name] = st
			if prev, ok := im.seen[name]; !ok || prev != st || now.Sub(st.mod) < settle {
				continue
			}
			f, err := im.take(ctx, cams, camDir.Name(), name)
			var refusal *refusedError
			switch {
			case errors.As(err, &refusal):
				if merr := im.reject(name, refusal.err); merr != nil {
					errs = append(errs, merr)
					continue
				}
				im.log.Warn("footage refused from the import folder", slog.String("file", name), slog.Any("err", refusal.err))
				res.Rejected = append(res.Rejected, name)
				delete(seen, name)
			case err != nil:
				errs = append(errs, fmt.Errorf("nvrimport: %s: %w", name, err))
			default:
				im.log.Info("footage imported", slog.String("file", name), slog.Int64("footage", f.ID), slog.String("sha256", f.SHA256))
				res.Imported = append(res.Imported, f)
				delete(seen, name)
			}
		}
	}
	im.seen = seen
	return res, errors.Join(errs...)
}

// refusedError is an ingest that will never succeed for this file.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }

// take ingests one file for the camera its folder names, then removes it
// from the folder: the ingested copy is the original now.
func (im *Importer) take(ctx context.Context, cams []*export.Camera, folder, name string) (*export.Footage, error) {
	cam := camera(cams, folder)
	if cam == nil {
		return nil, &refusedError{fmt.Errorf("no camera in service has the VMS id or name %q", folder)}
	}
	path := filepath.Join(im.dir, name)
	f, err := im.wf.ImportFile(ctx, export.Importer, cam.ID, path)
	if errors.Is(err, video.ErrNotVideo) || errors.Is(err, export.ErrState) {
		return nil, &refusedError{err}
	}
	if err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil {
		return f, fmt.Errorf("imported as footage %d, but not removed from the folder: %w", f.ID, err)
	}
	return f, nil
}

// camera is the camera in service a folder names: its VMS id, else its
// name (names are unique whatever the case).
func camera(cams []*export.Camera, folder string) *export.Camera {
	for _, c := range cams {
		if c.VMSID != "" && c.VMSID == folder {
			return c
		}
	}
	for _, c := range cams {
		if strings.EqualFold(c.Name, folder) {
			return c
		}
	}
	return nil
}

// reject moves a refused file to .rejected/ (never over another) with a
// note of why beside it.
func (im *Importer) reject(name string, why error) error {
	dst := filepath.Join(im.dir, Rejected, name)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("nvrimport: %w", err)
	}
	for i := 1; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
			break
		}
		dst = filepath.Join(im.dir, Rejected, fmt.Sprintf("%s.%d", name, i))
	}
	if err := os.Rename(filepath.Join(im.dir, name), dst); err != nil {
		return fmt.Errorf("nvrimport: set %s aside: %w", name, err)
	}
	note := fmt.Sprintf("%s\n%s\n", time.Now().UTC().Format(time.RFC3339), why)
	if err := os.WriteFile(dst+".error.txt", []byte(note), 0o600); err != nil {
		return fmt.Errorf("nvrimport: note why %s was refused: %w", name, err)
	}
	return nil
}

// Run sweeps every interval until ctx ends.
func (im *Importer) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := im.Sweep(ctx, time.Now()); err != nil && ctx.Err() == nil {
			im.log.Error("footage import folder", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
