package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/shared/buildinfo"
	"sealgate/shared/config"
	"sealgate/shared/pgcluster"
	"sealgate/shared/pgdb"
)

// Database is a daemon's open database, and the private cluster behind it
// when the daemon runs one.
type Database struct {
	Pool    *pgxpool.Pool
	cluster *pgcluster.Cluster // nil with an external server or an attached cluster
}

// Mode says who owns a private cluster.
type Mode int

const (
	// Owner is `serve`: it starts and supervises the cluster and refuses to
	// start if another process already runs it.
	Owner Mode = iota
	// Tool is an admin command: it uses the cluster of a running daemon, or
	// starts it for the command's duration when the daemon is down.
	Tool
)

// OpenDatabase connects to the configured server, or runs the private
// cluster under data_dir/pg when no URL is set, and migrates it.
func OpenDatabase(ctx context.Context, b *config.Base, ms []pgdb.Migration, mode Mode, log *slog.Logger) (*Database, error) {
	url := b.Database.URL
	var cluster *pgcluster.Cluster
	if url == "" {
		dir := b.PrivateDatabaseDir()
		_, running := pgcluster.RunningPID(dir)
		switch {
		case running && mode == Tool:
			url = pgcluster.SocketURL(dir, "sealgate")
		case running:
			return nil, fmt.Errorf("%w: is another sealgate daemon using %s? stop it first", pgcluster.ErrRunning, b.DataDir)
		default:
			var err error
			cluster, err = pgcluster.Start(ctx, pgcluster.Options{
				Dir: dir, BinDir: b.Database.Private.BinDir, User: b.Database.Private.User, Log: log,
			})
			if err != nil {
				return nil, err
			}
			url = cluster.URL()
		}
	}
	pool, err := pgdb.Open(ctx, url, ms, buildinfo.Version)
	if err != nil {
		if cluster != nil {
			err = errors.Join(err, cluster.Close())
		}
		return nil, err
	}
	return &Database{Pool: pool, cluster: cluster}, nil
}

// Close closes the pool, then stops the private cluster if this process started it.
func (d *Database) Close() error {
	d.Pool.Close()
	if d.cluster != nil {
		return d.cluster.Close()
	}
	return nil
}
