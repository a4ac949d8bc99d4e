// Package outerd is the sealgate-outer command: the appliance on the police
// network (pure Go, built with CGO_ENABLED=0). Its subcommands (see
// [daemon.CLI]) run the daemon and create keys and the first admin.
package outerd

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"sealgate/appliance/daemon"
	"sealgate/outer/portal"
	"sealgate/outer/store"
	"sealgate/shared/account"
	"sealgate/shared/accountui"
	"sealgate/shared/buildinfo"
	"sealgate/shared/config"
	"sealgate/shared/keys"
)

// Accounts are the outer daemon's roles; TOTP is mandatory for those that
// receive footage or administer.
var Accounts = account.Config{Issuer: "Sealgate police portal", Roles: []string{"admin", "officer"}, TOTPRoles: []string{"admin", "officer"}}

// UI says who manages users and who reads the audit log, and the portal's
// own pages; an officer lands on the catalog.
var UI = accountui.Config{AppKey: "app.outer", AdminRoles: []string{"admin"}, AuditRoles: []string{"admin"},
	Nav: portal.Nav, Homes: portal.Homes, Pages: portal.Pages(), SignUp: portal.SignUp}

// Main runs sealgate-outer with args (without the program name).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	return daemon.Main(ctx, &daemon.App{
		Name:      "sealgate-outer",
		EnvPrefix: config.OuterEnvPrefix,
		LoadConfig: func(path string, environ []string) (*config.Base, error) {
			c, err := config.LoadOuter(path, environ)
			if err != nil {
				return nil, err
			}
			return &c.Base, nil
		},
		Serve:    serveFile,
		InitKeys: keys.InitOuter,
		LoadSecrets: func(dir string) (*keys.Secrets, error) {
			k, err := keys.LoadOuter(dir)
			if err != nil {
				return nil, err
			}
			return &k.Secrets, nil
		},
		Accounts:   Accounts,
		Migrations: store.Migrations(),
		Help:       map[string]string{"serve_help": "Run the outer daemon (portal, metrics, private database).", "keys_init_help": "Create the HPKE license key (MLKEM768X25519) and the transfer identity (private files 0600).", "version_help": "Print the version."},
		Environ:    environ,
		Stdout:     stdout,
		Stderr:     stderr,
	}, &outerCLI{}, args)
}

func serveFile(ctx context.Context, path string, app *daemon.App) error {
	cfg, err := config.LoadOuter(path, app.Environ)
	if err != nil {
		return err
	}
	log := daemon.Logger(app.Stderr, &cfg.Base)
	log.Info("starting", slog.String("version", buildinfo.Version), slog.String("config", path))
	return Serve(ctx, cfg, app.Stdout, log, nil)
}

// Serve runs the outer daemon until ctx ends. It refuses to start without
// safe keys. started, if set, is told the bound addresses.
func Serve(ctx context.Context, cfg *config.Outer, out io.Writer, log *slog.Logger, started func(daemon.Addrs)) error {
	k, err := keys.LoadOuter(cfg.KeyDir)
	if err != nil {
		return fmt.Errorf("load keys (create them with `sealgate-outer keys init --dir %s`): %w", cfg.KeyDir, err)
	}
	return daemon.Serve(ctx, daemon.Spec{
		Name:       "outer",
		Base:       &cfg.Base,
		Web:        cfg.Portal,
		Migrations: store.Migrations(),
		KeysReady: func(context.Context) error {
			_, err := keys.LoadOuter(cfg.KeyDir)
			return err
		},
		Secrets:  &k.Secrets,
		Config:   cfg,
		Setup:    receiver(cfg, k, log),
		Accounts: Accounts,
		UI:       UI,
		Out:      out,
		Started:  started,
		Dirs:     []daemon.Dir{{Name: "store", Path: cfg.Transfer.StoreDir}},
	}, log)
}

// outerCLI is the shared daemon command tree plus the outer's own commands.
type outerCLI struct {
	daemon.CLI `embed:""`
	Store      storeCmd `cmd:"" help:"Inspect the package store."`

	daemon.BackupCmds `embed:""`
	// Shared by both daemons: apply, rollback, status.
	Update daemon.UpdateCmd `cmd:"" help:"Signed release updates (docs/updates.md)."`
}
