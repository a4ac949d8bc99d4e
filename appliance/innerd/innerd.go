// Package innerd is the sealgate-inner command: the appliance on the CCTV
// network. Its subcommands run the daemon, create keys and the first admin,
// and report the version of the OpenCV library the binary links.
package innerd

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"sealgate/appliance/daemon"
	"sealgate/inner/store"
	"sealgate/inner/video"
	"sealgate/shared/buildinfo"
	"sealgate/shared/config"
	"sealgate/shared/keys"
)

type cli struct {
	Serve   serveCmd   `cmd:"" help:"Run the inner daemon (console, metrics, private database)."`
	Keys    keysCmd    `cmd:"" help:"Create or show the appliance keys."`
	Admin   adminCmd   `cmd:"" help:"Manage administrator accounts."`
	Version versionCmd `cmd:"" help:"Print the version and the linked OpenCV version."`
}

type keysCmd struct {
	Init keysInitCmd        `cmd:"" help:"Create the signing key and transfer identity (files of mode 0600)."`
	Show daemon.KeysShowCmd `cmd:"" help:"Print public keys and fingerprints for pairing."`
}

type adminCmd struct {
	Create daemon.AdminCreateCmd `cmd:"" help:"Create an admin with a generated password, shown once."`
}

// Main runs sealgate-inner with args (without the program name).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	app := &daemon.App{
		Name: "sealgate-inner",
		LoadConfig: func(path string, environ []string) (*config.Base, error) {
			c, err := config.LoadInner(path, environ)
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
	return daemon.Main(ctx, app, &cli{}, args, config.InnerEnvPrefix)
}

type serveCmd struct {
	daemon.ConfigFlag
}

func (c *serveCmd) Run(ctx context.Context, app *daemon.App) error {
	cfg, err := config.LoadInner(c.Config, app.Environ)
	if err != nil {
		return err
	}
	log := daemon.Logger(app.Stderr, &cfg.Base)
	log.Info("starting", slog.String("version", buildinfo.Version), slog.String("opencv", video.OpenCVVersion()), slog.String("config", c.Config))
	return Serve(ctx, cfg, app.Stdout, log, nil)
}

// Serve runs the inner daemon until ctx ends. It refuses to start without
// safe keys. started, if set, is told the bound addresses.
func Serve(ctx context.Context, cfg *config.Inner, out io.Writer, log *slog.Logger, started func(daemon.Addrs)) error {
	if _, err := keys.LoadInner(cfg.KeyDir); err != nil {
		return fmt.Errorf("load keys (create them with `sealgate-inner keys init --dir %s`): %w", cfg.KeyDir, err)
	}
	return daemon.Serve(ctx, daemon.Spec{
		Name:       "inner",
		Base:       &cfg.Base,
		Web:        cfg.Console,
		Migrations: store.Migrations(),
		KeysReady: func(context.Context) error {
			_, err := keys.LoadInner(cfg.KeyDir)
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
	if err := keys.InitInner(c.Dir); err != nil {
		return err
	}
	fmt.Fprintf(app.Stdout, "Created inner appliance keys in %s.\n\n", c.Dir)
	return (&daemon.KeysShowCmd{Dir: c.Dir}).Run(app)
}

type versionCmd struct {
	JSON bool `help:"Print one JSON object."`
}

func (c *versionCmd) Run(app *daemon.App) error {
	return daemon.PrintVersion(app, c.JSON, map[string]string{"opencv": video.OpenCVVersion()})
}
