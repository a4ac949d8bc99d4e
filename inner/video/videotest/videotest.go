// Package videotest finds the real footage and models that make deps fetches
// (appliance/assets/fetch.sh) and makes synthetic clips with ffmpeg.
package videotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// goMod is the repository's go.mod, asked of the go command once.
var goMod = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	return strings.TrimSpace(string(out)), err
})

// Dir is the assets directory: $SEALGATE_ASSETS, or var/assets at the
// repository root.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("SEALGATE_ASSETS"); d != "" {
		return d
	}
	mod, err := goMod()
	if err != nil || mod == "" {
		t.Fatalf("cannot find the repository root (go env GOMOD): %v", err)
	}
	return filepath.Join(filepath.Dir(mod), "var", "assets")
}

// Asset is the path of a fetched asset; the test fails if it is missing.
func Asset(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(Dir(t), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test asset %s is missing: run `make deps` (appliance/assets/fetch.sh): %v", name, err)
	}
	return p
}

// FFmpeg runs ffmpeg with args and fails the test on error.
func FFmpeg(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-v", "error", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
