package audit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/shared/audit"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func newLog(t *testing.T) (*audit.Log, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.NewPool(t, pgdb.MustMigrations(audit.Schema))
	key := make([]byte, 32)
	rand.Read(key)
	return audit.New(pool, key), pool
}

func fill(t *testing.T, l *audit.Log, n int) {
	t.Helper()
	for i := range n {
		if err := l.Append(context.Background(), audit.Entry{Actor: "kim", Action: "login", Target: fmt.Sprint(i), Remote: "10.0.0.1"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChainVerifies(t *testing.T) {
	l, _ := newLog(t)
	fill(t, l, 5)
	n, err := l.Verify(context.Background())
	if err != nil || n != 5 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

func TestDatabaseRefusesChanges(t *testing.T) {
	l, pool := newLog(t)
	fill(t, l, 2)
	for _, sql := range []string{
		`UPDATE audit_log SET actor = 'someone-else' WHERE seq = 1`,
		`DELETE FROM audit_log WHERE seq = 2`,
		`TRUNCATE audit_log`,
	} {
		if _, err := pool.Exec(context.Background(), sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refusal", sql, err)
		}
	}
}

// tamper changes history the way an attacker with superuser access to the
// database would: around the append-only trigger.
func tamper(t *testing.T, pool *pgxpool.Pool, sql string) {
	t.Helper()
	ctx := context.Background()
	for _, s := range []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`, sql, `ALTER TABLE audit_log ENABLE TRIGGER USER`} {
		if _, err := pool.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestVerifyNamesTheFirstBadEntry(t *testing.T) {
	for _, tc := range []struct {
		name, sql string
		seq       int64
		reason    string
	}{
		{"altered", `UPDATE audit_log SET target = 'nothing to see' WHERE seq = 3`, 3, "altered"},
		{"outcome flipped", `UPDATE audit_log SET outcome = 'denied' WHERE seq = 4`, 4, "altered"},
		{"deleted", `DELETE FROM audit_log WHERE seq = 2`, 2, "missing"},
		{"reordered", `UPDATE audit_log SET seq = -2 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -2`, 2, "out of order"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, pool := newLog(t)
			fill(t, l, 5)
			tamper(t, pool, tc.sql)
			n, err := l.Verify(context.Background())
			var be *audit.BrokenError
			if !errors.As(err, &be) || be.Seq != tc.seq || !strings.Contains(be.Reason, tc.reason) {
				t.Fatalf("Verify = %d, %v; want entry %d %s", n, err, tc.seq, tc.reason)
			}
			if n != tc.seq-1 {
				t.Errorf("%d entries reported good, want %d", n, tc.seq-1)
			}
		})
	}
}

func TestConcurrentAppendsKeepTheChain(t *testing.T) {
	l, _ := newLog(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				if err := l.Append(context.Background(), audit.Entry{Actor: fmt.Sprint("w", w), Action: "test", Target: fmt.Sprint(i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n, err := l.Verify(context.Background()); err != nil || n != 80 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

func TestQueryAndCSV(t *testing.T) {
	l, _ := newLog(t)
	ctx := context.Background()
	fill(t, l, 3)
	l.Append(ctx, audit.Entry{Actor: "=cmd|' /C calc'!A0", Action: "login", Outcome: audit.Denied})
	l.Append(ctx, audit.Entry{Actor: "lee", Action: "user.create", Target: "park"})
	got, err := l.Query(ctx, audit.Filter{Action: "user."})
	if err != nil || len(got) != 1 || got[0].Target != "park" {
		t.Fatalf("Query(action user.) = %+v, %v", got, err)
	}
	got, _ = l.Query(ctx, audit.Filter{Actor: "kim", Limit: 2})
	if len(got) != 2 || got[0].Seq != 3 {
		t.Fatalf("Query(actor kim, limit 2) = %+v", got)
	}
	var buf bytes.Buffer
	if err := l.WriteCSV(ctx, &buf, audit.Filter{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "seq,time,actor") || !strings.HasPrefix(lines[1], "1,") {
		t.Fatalf("CSV:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), `'=cmd`) {
		t.Fatalf("formula in CSV not defused:\n%s", buf.String())
	}
}
