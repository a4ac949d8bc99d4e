package portal

import (
	"io/fs"
	"regexp"
	"testing"

	"sealgate/shared/i18n"
)

// Every message a page names literally is in the catalogues (which hold
// the same keys in Korean and English): a missing one would show its key.
func TestPagesNameKnownMessages(t *testing.T) {
	literal := regexp.MustCompile(`\bT \$?\.Lang "([a-z0-9_.]+)"`)
	n := 0
	err := fs.WalkDir(Pages(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Pages(), path)
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
	if n < 60 {
		t.Fatalf("found only %d message keys in the pages", n)
	}
	for _, s := range []string{"arrival", "footage", "days_left"} {
		if !i18n.Has("packages.sort." + s) {
			t.Errorf("no name for the sort %s", s)
		}
	}
}

func TestSizeText(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 30: "5.0 GiB", 1<<40 + 1<<39: "1.5 TiB"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", n, got, want)
		}
	}
}
