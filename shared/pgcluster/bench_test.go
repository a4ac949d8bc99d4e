package pgcluster_test

import (
	"context"
	"os"
	"testing"
	"time"

	"sealgate/shared/pgcluster"
)

// BenchmarkLifecycle measures what a daemon's start and stop cost with its
// private cluster: first start (initdb + start + create database), restart
// of an existing cluster, and fast shutdown. Durable settings (fsync on), as
// in appliance mode.
func BenchmarkLifecycle(b *testing.B) {
	var first, restart, stop time.Duration
	for range b.N {
		dir, err := os.MkdirTemp("", "sgpgb")
		if err != nil {
			b.Fatal(err)
		}
		os.Chmod(dir, 0o711)
		opts := pgcluster.Options{Dir: dir}
		t0 := time.Now()
		c, err := pgcluster.Start(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		first += time.Since(t0)
		c.Close()
		t0 = time.Now()
		if c, err = pgcluster.Start(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
		restart += time.Since(t0)
		t0 = time.Now()
		c.Close()
		stop += time.Since(t0)
		os.RemoveAll(dir)
	}
	n := float64(b.N)
	b.ReportMetric(first.Seconds()/n, "s/first-start")
	b.ReportMetric(restart.Seconds()/n, "s/restart")
	b.ReportMetric(stop.Seconds()/n, "s/stop")
}
