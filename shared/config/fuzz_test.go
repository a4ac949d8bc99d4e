package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"sealgate/shared/config"
)

// FuzzLoad feeds arbitrary files to the loader: it must return a config or
// an error, never panic, and every rejected key must come as a KeyError or a
// YAML error naming the file.
func FuzzLoad(f *testing.F) {
	for _, p := range []string{"../../configs/inner.example.yaml", "../../configs/outer.example.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("console:\n  listn: 1\n"))
	f.Add([]byte("data_dir: [a, b]\nlog: {level: 3}\n"))
	f.Add([]byte("&a [*a]"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := config.LoadInner(p, nil)
		if err == nil {
			if c.DataDir == "" || c.KeyDir == "" || c.ShutdownGrace <= 0 {
				t.Fatalf("accepted config is incomplete: %+v", c)
			}
			return
		}
		var ke *config.KeyError
		if errors.As(err, &ke) && ke.Key == "" {
			t.Fatalf("KeyError without a key: %v", err)
		}
	})
}
