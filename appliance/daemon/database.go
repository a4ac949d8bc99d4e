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
//
// In the private cluster the migrations run as the owner role and the pool
// is the app role's, which cannot rewrite the audit log. An external
// server's database.url is used as given: its role should be a serving
// role the owner granted with `database migrate` (docs/operations.md); one
// that could rewrite the audit log is warned about.
func OpenDatabase(ctx context.Context, b *config.Base, ms []pgdb.Migration, mode Mode, log *slog.Logger) (*Database, error) {
	if b.Database.URL != "" {
		pool, err := pgdb.Open(ctx, b.Database.URL, ms, buildinfo.Version)
		if err != nil {
			return nil, err
		}
		if bad, err := pgdb.CanRewrite(ctx, pool, ms); err != nil {
			pool.Close()
			return nil, err
		} else if len(bad) > 0 {
			log.Warn("the database.url role can rewrite the audit log; serve as a role granted by `database migrate` instead (docs/operations.md)",
				slog.Any("tables", bad))
		}
		return &Database{Pool: pool}, nil
	}
	dir := b.PrivateDatabaseDir()
	_, running := pgcluster.RunningPID(dir)
	var cluster *pgcluster.Cluster
	switch {
	case running && mode == Tool:
		// The running daemon may be an older release, which made no roles.
		if err := pgcluster.Provision(ctx, dir, privateDatabase); err != nil {
			return nil, err
		}
	case running:
		return nil, fmt.Errorf("%w: is another sealgate daemon using %s? stop it first", pgcluster.ErrRunning, b.DataDir)
	default:
		var err error
		cluster, err = pgcluster.Start(ctx, pgcluster.Options{
			Dir: dir, BinDir: b.Database.Private.BinDir, User: b.Database.Private.User, Database: privateDatabase, Log: log,
		})
		if err != nil {
			return nil, err
		}
	}
	pool, err := openPrivate(ctx, dir, ms)
	if err != nil {
		if cluster != nil {
			err = errors.Join(err, cluster.Close())
		}
		return nil, err
	}
	return &Database{Pool: pool, cluster: cluster}, nil
}

// privateDatabase is the database of the private cluster.
const privateDatabase = "sealgate"

// openPrivate migrates the private cluster's database as the owner role,
// which grants the app role, and opens the app role's pool.
func openPrivate(ctx context.Context, dir string, ms []pgdb.Migration) (*pgxpool.Pool, error) {
	if err := Setup(ctx, pgcluster.RoleURL(dir, privateDatabase, pgcluster.OwnerRole), pgcluster.AppRole, ms); err != nil {
		return nil, err
	}
	return pgdb.Open(ctx, pgcluster.RoleURL(dir, privateDatabase, pgcluster.AppRole), ms, buildinfo.Version)
}

// Setup connects to ownerURL, applies the migrations as that role and
// grants the serving role app its privileges (pgdb.Setup).
func Setup(ctx context.Context, ownerURL, app string, ms []pgdb.Migration) error {
	cfg, err := pgxpool.ParseConfig(ownerURL)
	if err != nil {
		return fmt.Errorf("parse the owner's database url: %w", err)
	}
	cfg.MaxConns = 2 // the migration's session and its lock
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect as the owner: %w", err)
	}
	defer pool.Close()
	if err := pgdb.Setup(ctx, pool, ms, buildinfo.Version, app); err != nil {
		return fmt.Errorf("as the database owner %q: %w", cfg.ConnConfig.User, err)
	}
	return nil
}

// Close closes the pool, then stops the private cluster if this process started it.
func (d *Database) Close() error {
	d.Pool.Close()
	if d.cluster != nil {
		return d.cluster.Close()
	}
	return nil
}
