package portal

import (
	"io/fs"
	"regexp"
	"testing"

	"sealgate/shared/i18n"
)

// Every message the registration pages name literally is in the
// catalogues (which hold the same keys in Korean and English).
func TestRegistrationPagesNameKnownMessages(t *testing.T) {
	literal := regexp.MustCompile(`\bT \$?\.Lang "([a-z0-9_.]+)"`)
	n := 0
	err := fs.WalkDir(registrationPages(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(registrationPages(), path)
		if err != nil {
			return err
		}
		for _, m := range literal.FindAllSubmatch(b, -1) {
			n++
			if !i18n.Has(string(m[1])) {
				t.Errorf("%s: no message %q", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 30 {
		t.Fatalf("found only %d message keys in the pages", n)
	}
}
