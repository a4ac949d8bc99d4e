package send_test

import (
	"testing"
	"time"

	"sealgate/transfer/send"
)

// NextQuery: every early inside the window, at its end plus QueryAfter
// when that comes first; after it a backoff from QueryEvery to QueryAtMost.
func TestNextQuery(t *testing.T) {
	now := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	delivered := now.Add(-time.Hour)
	for _, tc := range []struct {
		name  string
		until time.Time
		early time.Duration
		want  time.Time
	}{
		{"inside a long window", now.Add(7 * 24 * time.Hour), time.Hour, now.Add(time.Hour)},
		{"asked often inside it", now.Add(7 * 24 * time.Hour), 10 * time.Second, now.Add(10 * time.Second)},
		{"the window ends first", now.Add(5 * time.Minute), time.Hour, now.Add(5*time.Minute + send.QueryAfter)},
		{"just past the window", now.Add(-send.QueryAfter), time.Hour, now.Add(send.QueryEvery)},
		{"an hour past it", now.Add(-time.Hour - send.QueryAfter), time.Hour, now.Add(time.Hour)},
		{"long past it", now.Add(-30 * 24 * time.Hour), time.Hour, now.Add(send.QueryAtMost)},
		{"no window known", time.Time{}, time.Hour, now.Add(time.Hour)},
	} {
		if got := send.NextQuery(now, delivered, tc.until, tc.early); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
