package console

import (
	"io/fs"
	"regexp"
	"testing"

	"sealgate/shared/i18n"
)

// Every message a page names literally is in the catalogues (which hold
// the same keys in Korean and English): a missing one would show its key.
func TestPagesNameKnownMessages(t *testing.T) {
	literal := regexp.MustCompile(`\bT (?:\$?\.Lang|\$l) "([a-z0-9_.]+)"`)
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
	if n < 100 {
		t.Fatalf("found only %d message keys in the pages", n)
	}
}

// The ledger files' headers are messages too.
func TestLedgerColumnsNameKnownMessages(t *testing.T) {
	for _, col := range ledgerColumns {
		if !i18n.Has(col.key) {
			t.Errorf("ledger column: no message %q", col.key)
		}
	}
}
