package audit

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Filter selects entries; zero fields match everything.
type Filter struct {
	Actor  string
	Action string // prefix: "user." matches user.create, user.disable…
	From   time.Time
	Until  time.Time
	Limit  int   // default 200
	Before int64 // entries with seq < Before (paging, newest first); 0: from the newest
}

// Query returns matching entries, newest first.
func (l *Log) Query(ctx context.Context, f Filter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 200
	}
	rows, err := l.pool.Query(ctx, `
		SELECT seq, at, actor, action, target, outcome, remote, detail, mac FROM audit_log
		WHERE ($1 = '' OR actor = $1)
		  AND ($2 = '' OR starts_with(action, $2))
		  AND ($3::timestamptz IS NULL OR at >= $3)
		  AND ($4::timestamptz IS NULL OR at < $4)
		  AND ($5 = 0 OR seq < $5)
		ORDER BY seq DESC LIMIT $6`,
		f.Actor, f.Action, nullTime(f.From), nullTime(f.Until), f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("audit: query: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		err := r.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.Remote, &e.Detail, &e.MAC)
		return e, err
	})
}

// WriteCSV writes matching entries (all of them, oldest first within the
// page limits of Query) as CSV with a header row and the MAC in hex, so an
// exported copy can be checked against the chain.
func (l *Log) WriteCSV(ctx context.Context, w io.Writer, f Filter) error {
	f.Limit = 10000
	entries, err := l.Query(ctx, f)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"seq", "time", "actor", "action", "target", "outcome", "remote", "detail", "mac"})
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		cw.Write([]string{strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano), csvSafe(e.Actor), csvSafe(e.Action),
			csvSafe(e.Target), e.Outcome, csvSafe(e.Remote), csvSafe(e.Detail), fmt.Sprintf("%x", e.MAC)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formula injection: a cell an attacker
// controls (a username tried at login) must not start with = + - @.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
