package opener

import (
	"strings"
	"testing"
	"time"

	"sealgate/shared/seal"
)

func TestCheckWindow(t *testing.T) {
	from := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	until := time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC)
	m := &seal.Manifest{ExportCode: "SG-1", ViewFrom: from, ViewUntil: until}
	for _, tc := range []struct {
		name string
		m    *seal.Manifest
		now  time.Time
		want string // substring of the error; "" for none
	}{
		{"inside", m, from.Add(time.Hour), ""},
		{"at the start", m, from, ""},
		{"before", m, from.Add(-time.Second), "starts"},
		{"at the end", m, until, "ended"},
		{"after", m, until.AddDate(1, 0, 0), "must be destroyed"},
		{"no window", &seal.Manifest{}, until.AddDate(10, 0, 0), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkWindow(tc.m, tc.now)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("checkWindow at %v: %v, want %q", tc.now, err, tc.want)
			}
		})
	}
}
