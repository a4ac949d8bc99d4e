package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/user"
	"slices"
	"strings"

	"github.com/alecthomas/kong"

	"sealgate/appliance/cli"
	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/buildinfo"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgdb"
)

// App describes one daemon binary to the command tree both share.
type App struct {
	Name       string // "sealgate-inner"
	EnvPrefix  string // config.InnerEnvPrefix; EnvPrefix+"CONFIG" may name the config file
	LoadConfig func(path string, environ []string) (*config.Base, error)
	// Serve loads the config file at path and runs the daemon until ctx ends.
	Serve    func(ctx context.Context, path string, app *App) error
	InitKeys func(dir string) error
	// LoadSecrets reads the audit and personal-data keys from the key directory.
	LoadSecrets func(dir string) (*keys.Secrets, error)
	// Accounts names the daemon's roles and which need TOTP.
	Accounts   account.Config
	Migrations []pgdb.Migration
	// Versions lists linked components for `version` (inner: OpenCV); may be nil.
	Versions func() map[string]string
	// Help holds the daemon-specific help texts: serve_help, keys_init_help, version_help.
	Help    map[string]string
	Environ []string
	Stdout  io.Writer
	Stderr  io.Writer
}

// CLI is the command tree of sealgate-inner and sealgate-outer.
type CLI struct {
	Serve ServeCmd `cmd:"" help:"${serve_help}"`
	Keys  struct {
		Init KeysInitCmd `cmd:"" help:"${keys_init_help}"`
		Show KeysShowCmd `cmd:"" help:"Print public keys and fingerprints for pairing."`
	} `cmd:"" help:"Create or show the appliance keys."`
	Admin struct {
		Create AdminCreateCmd `cmd:"" help:"Create an admin with a generated password, shown once."`
	} `cmd:"" help:"Manage administrator accounts."`
	User struct {
		Add UserAddCmd `cmd:"" help:"Add a user with a password from a file (checked against the password policy)."`
	} `cmd:"" help:"Manage user accounts."`
	Audit struct {
		Verify     AuditVerifyCmd     `cmd:"" help:"Check the audit log's chain; exit 0 only when intact, else name the first bad entry."`
		Anchor     AuditAnchorCmd     `cmd:"" help:"Export a signed anchor of the chain's head, to keep off the appliance for audit verify --anchor."`
		PeerAnchor AuditPeerAnchorCmd `cmd:"" help:"Write the paired appliance's latest audit anchor kept here, for audit verify --anchor over there."`
	} `cmd:"" help:"Check the audit log."`
	Database struct {
		Migrate DatabaseMigrateCmd `cmd:"" help:"Migrate an external database as its owner and grant database.url's role what the daemon needs."`
	} `cmd:"" help:"Prepare an external database."`
	Version VersionCmd `cmd:"" help:"${version_help}"`
}

// Main parses args into root (a [CLI], or a struct embedding one with the
// daemon's own commands) and runs the chosen command with ctx and app bound.
func Main(ctx context.Context, app *App, root any, args []string) int {
	vars := kong.Vars{"config_env": app.EnvPrefix + "CONFIG", "config_default": "/etc/sealgate/" + strings.TrimPrefix(app.Name, "sealgate-") + ".yaml",
		"owner_url_env": app.EnvPrefix + "DATABASE_OWNER_URL"}
	maps.Copy(vars, app.Help)
	return cli.Run(ctx, app.Name, root, args, app.Stdout, app.Stderr, vars, app)
}

// KeysShowCmd prints the public keys and fingerprints of a key directory.
type KeysShowCmd struct {
	Dir  string `required:"" type:"existingdir" help:"Key directory."`
	JSON bool   `help:"Print one JSON object."`
}

// Run prints each public key with its fingerprint, grouped for reading aloud.
func (c *KeysShowCmd) Run(app *App) error {
	pubs, err := keys.Show(c.Dir)
	if err != nil {
		return err
	}
	if c.JSON {
		return cli.PrintJSON(app.Stdout, map[string]any{"keys": pubs})
	}
	for _, p := range pubs {
		fmt.Fprintf(app.Stdout, "%s key (%s)\n  file:        %s\n  fingerprint: %s\n  compare:     %s\n\n",
			p.Name, p.Algorithm, p.File, p.Fingerprint, keys.Grouped(p.Fingerprint))
	}
	return nil
}

// ConfigFlag is the --config flag every command that touches the database has.
type ConfigFlag struct {
	Config string `short:"c" type:"existingfile" default:"${config_default}" help:"Daemon configuration file." env:"${config_env}"`
}

// AdminCreateCmd creates an admin account with a generated password shown once.
type AdminCreateCmd struct {
	ConfigFlag
	Username string `required:"" help:"Login name of the new admin."`
	JSON     bool   `help:"Print one JSON object."`
}

// Run creates the account; the password is printed once and never stored in
// clear. It works whether or not the daemon is running.
func (c *AdminCreateCmd) Run(ctx context.Context, app *App) error {
	return withAccounts(ctx, app, c.Config, func(svc *account.Service, _ *audit.Log) error {
		u, password, err := svc.CreateUser(ctx, cliActor(), account.NewUser{Username: c.Username, Role: "admin"})
		if err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, map[string]any{"username": u.Username, "role": u.Role, "password": password, "must_change_password": true})
		}
		fmt.Fprintf(app.Stdout, "Created admin %q on %s.\nOne-time password (shown only now; it must be changed at first sign-in):\n\n    %s\n\n", u.Username, app.Name, password)
		return nil
	})
}

// UserAddCmd adds a user whose first password an admin chose.
type UserAddCmd struct {
	ConfigFlag
	Username     string `required:"" help:"Login name."`
	Role         string `required:"" help:"Role: inner admin, operator, approver, auditor; outer admin, officer."`
	PasswordFile string `required:"" type:"existingfile" help:"File holding the first password; it must pass the password policy and be changed at first sign-in."`
	FullName     string `help:"Full name (stored encrypted)."`
	Phone        string `help:"Phone number (stored encrypted)."`
	Affiliation  string `help:"Department or police station (stored encrypted)."`
	JSON         bool   `help:"Print one JSON object."`
}

// Run adds the user, refusing a weak password with the reason.
func (c *UserAddCmd) Run(ctx context.Context, app *App) error {
	b, err := os.ReadFile(c.PasswordFile)
	if err != nil {
		return err
	}
	password := strings.TrimRight(string(b), "\r\n")
	return withAccounts(ctx, app, c.Config, func(svc *account.Service, _ *audit.Log) error {
		u, _, err := svc.CreateUser(ctx, cliActor(), account.NewUser{Username: c.Username, Role: c.Role, Password: password,
			FullName: c.FullName, Phone: c.Phone, Affiliation: c.Affiliation})
		if err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, map[string]any{"username": u.Username, "role": u.Role, "must_change_password": true})
		}
		fmt.Fprintf(app.Stdout, "Added %s %q on %s; the password must be changed at first sign-in.\n", u.Role, u.Username, app.Name)
		return nil
	})
}

// cliActor names who acts from the command line: the OS user at the console.
func cliActor() account.Actor {
	name := "cli"
	if u, err := user.Current(); err == nil {
		name = "cli:" + u.Username
	}
	return account.Actor{Name: name, Remote: "local"}
}

// WithDatabase opens a daemon's database for a command (the running
// daemon's, or its private cluster for the command's duration) and its
// audit log, and runs fn.
func WithDatabase(ctx context.Context, app *App, configPath string, fn func(base *config.Base, db *Database, log *audit.Log, secrets *keys.Secrets) error) error {
	base, err := app.LoadConfig(configPath, app.Environ)
	if err != nil {
		return err
	}
	secrets, err := app.LoadSecrets(base.KeyDir)
	if err != nil {
		return fmt.Errorf("load keys (create them with `%s keys init --dir %s`): %w", app.Name, base.KeyDir, err)
	}
	log := slog.New(slog.NewJSONHandler(app.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := OpenDatabase(ctx, base, app.Migrations, Tool, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	return fn(base, db, audit.New(db.Pool, secrets.Audit), secrets)
}

// withAccounts is WithDatabase with the account service.
func withAccounts(ctx context.Context, app *App, configPath string, fn func(*account.Service, *audit.Log) error) error {
	return WithDatabase(ctx, app, configPath, func(_ *config.Base, db *Database, auditLog *audit.Log, secrets *keys.Secrets) error {
		return accountsOn(ctx, app, db, auditLog, secrets, fn)
	})
}

func accountsOn(ctx context.Context, app *App, db *Database, auditLog *audit.Log, secrets *keys.Secrets, fn func(*account.Service, *audit.Log) error) error {
	svc, err := AccountService(ctx, app, db, auditLog, secrets)
	if err != nil {
		return err
	}
	return fn(svc, auditLog)
}

// AccountService is the app's account service on db, for commands that
// act for a console user (--as).
func AccountService(ctx context.Context, app *App, db *Database, auditLog *audit.Log, secrets *keys.Secrets) (*account.Service, error) {
	cfg := app.Accounts
	cfg.PIIKey, cfg.Audit = secrets.PII, auditLog
	return account.NewService(ctx, db.Pool, cfg)
}

// Logger returns the daemon's JSON logger on stderr at the configured level.
func Logger(w io.Writer, b *config.Base) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: b.LogLevel()}))
}

// ServeCmd runs the daemon.
type ServeCmd struct {
	ConfigFlag
}

// Run serves until ctx ends (SIGINT or SIGTERM).
func (c *ServeCmd) Run(ctx context.Context, app *App) error { return app.Serve(ctx, c.Config, app) }

// KeysInitCmd creates the appliance's key set.
type KeysInitCmd struct {
	Dir string `required:"" help:"Key directory to create (mode 0700)."`
}

// Run creates the keys, refusing to overwrite, and shows their fingerprints.
func (c *KeysInitCmd) Run(app *App) error {
	if err := app.InitKeys(c.Dir); err != nil {
		return err
	}
	fmt.Fprintf(app.Stdout, "Created %s keys in %s.\n\n", app.Name, c.Dir)
	return (&KeysShowCmd{Dir: c.Dir}).Run(app)
}

// VersionCmd prints the release, Go version and linked components.
type VersionCmd struct {
	JSON bool `help:"Print one JSON object."`
}

// Run prints e.g. "sealgate-inner v0.1.0 (go1.26.8, opencv 4.6.0)".
func (c *VersionCmd) Run(app *App) error {
	extra := map[string]string{}
	if app.Versions != nil {
		extra = app.Versions()
	}
	if c.JSON {
		v := map[string]string{"name": app.Name, "version": buildinfo.Version, "go": buildinfo.GoVersion()}
		maps.Copy(v, extra)
		return cli.PrintJSON(app.Stdout, v)
	}
	fmt.Fprintf(app.Stdout, "%s %s (%s", app.Name, buildinfo.Version, buildinfo.GoVersion())
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		fmt.Fprintf(app.Stdout, ", %s %s", k, extra[k])
	}
	fmt.Fprintln(app.Stdout, ")")
	return nil
}
