// Package outerd is the sealgate-outer command: the appliance on the police
// network (pure Go, built with CGO_ENABLED=0). Its subcommands run the daemon,
// create keys and the first admin.
package outerd

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"sealgate/appliance/daemon"
	"sealgate/outer/store"
	"sealgate/shared/buildinfo"
	"sealgate/shared/config"
	"sealgate/shared/keys"
)

type cli struct {
	Serve   serveCmd   `cmd:"" help:"Run the outer daemon (portal, metrics, private database)."`
	Keys    keysCmd    `cmd:"" help:"Create or show the appliance keys."`
	Admin   adminCmd   `cmd:"" help:"Manage administrator accounts."`
	Version versionCmd `cmd:"" help:"Print the version."`
}

type keysCmd struct {
	Init keysInitCmd        `cmd:"" help:"Create the HPKE license key and transfer identity (files of mode 0600)."`
	Show daemon.KeysShowCmd `cmd:"" help:"Print public keys and fingerprints for pairing."`
}

type adminCmd struct {
	Create daemon.AdminCreateCmd `cmd:"" help:"Create an admin with a generated password, shown once."`
}

// Main runs sealgate-outer with args (without the program name).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	app := &daemon.App{
		Name: "sealgate-outer",
		LoadConfig: func(path string, environ []string) (*config.Base, error) {
			c, err := config.LoadOuter(path, environ)
			if err != nil {
				return nil, err
			}
			return &c.Base, nil
		},
		Migrations: store.Migrations(),
		Environ:    environ,
		Stdout:     stdout,
		Stderr:     stderr,
	}
	return daemon.Main(ctx, app, &cli{}, args, config.OuterEnvPrefix)
}

type serveCmd struct {
	daemon.ConfigFlag
}

func (c *serveCmd) Run(ctx context.Context, app *daemon.App) error {
	cfg, err := config.LoadOuter(c.Config, app.Environ)
	if err != nil {
		return err
	}
	log := daemon.Logger(app.Stderr, &cfg.Base)
	log.Info("starting", slog.String("version", buildinfo.Version), slog.String("config", c.Config))
	return Serve(ctx, cfg, app.Stdout, log, nil)
}

// Serve runs the outer daemon until ctx ends. It refuses to start without
// safe keys. started, if set, is told the bound addresses.
func Serve(ctx context.Context, cfg *config.Outer, out io.Writer, log *slog.Logger, started func(daemon.Addrs)) error {
	if _, err := keys.LoadOuter(cfg.KeyDir); err != nil {
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
		Out:     out,
		Started: started,
	}, log)
}

type keysInitCmd struct {
	Dir string `required:"" help:"Key directory to create (mode 0700)."`
}

func (c *keysInitCmd) Run(app *daemon.App) error {
	if err := keys.InitOuter(c.Dir); err != nil {
		return err
	}
	fmt.Fprintf(app.Stdout, "Created outer appliance keys in %s.\n\n", c.Dir)
	return (&daemon.KeysShowCmd{Dir: c.Dir}).Run(app)
}

type versionCmd struct {
	JSON bool `help:"Print one JSON object."`
}

func (c *versionCmd) Run(app *daemon.App) error {
	return daemon.PrintVersion(app, c.JSON, nil)
}
