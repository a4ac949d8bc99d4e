package keys

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// privateFiles are the files of a key directory only their owner may read.
var privateFiles = []string{SigningKey, LicenseKey, TransferKey, AuditKey, PIIKey, WatermarkKey}

// Mode is the permission check of one entry of a key directory: the
// directory itself (Name ".", unsafe when others may write to it) or a
// private file (unsafe when anyone but its owner may read it).
type Mode struct {
	Name string
	Mode fs.FileMode
	Safe bool
}

// Modes checks dir and the private files in it, the rules loading the keys
// applies, without reading a key: for a monitor that looks every scrape.
// Private files a side does not have (the outer has no signing.key) are
// left out; dir that cannot be read is an error.
func Modes(dir string) ([]Mode, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	out := []Mode{{Name: ".", Mode: fi.Mode().Perm(), Safe: fi.IsDir() && fi.Mode().Perm()&0o022 == 0}}
	for _, name := range privateFiles {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		out = append(out, Mode{Name: name, Mode: fi.Mode().Perm(), Safe: fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 == 0})
	}
	return out, nil
}
