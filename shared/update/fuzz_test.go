package update_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"sealgate/shared/update"
)

// FuzzStage feeds hostile bytes to the bundle reader: it must refuse
// without panicking and leave nothing behind, and whatever it accepts must
// be the signed release (a mutation cannot forge the signature).
func FuzzStage(f *testing.F) {
	r := newRelease(f)
	good, err := os.ReadFile(r.bundle(f, "inner", "v1.1.0"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "b.tar.gz")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		install := filepath.Join(dir, "opt")
		s, err := update.Stage(p, install, r.keys, expect("v1.0.0"))
		if err != nil {
			if !errors.Is(err, update.ErrRefused) {
				t.Fatalf("not a refusal: %v", err)
			}
			if es, _ := os.ReadDir(install); len(es) != 0 {
				t.Fatalf("a refused bundle left %v", es)
			}
			return
		}
		defer s.Discard()
		if s.Manifest.Version != "v1.1.0" || s.Manifest.Kind != "inner" {
			t.Fatalf("accepted a manifest that was not signed: %+v", s.Manifest)
		}
	})
}
