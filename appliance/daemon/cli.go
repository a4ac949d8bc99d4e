package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"

	"github.com/alecthomas/kong"

	"sealgate/shared/account"
	"sealgate/shared/buildinfo"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgdb"
)

// App is what the shared commands need to know about the daemon running them.
type App struct {
	Name       string // "sealgate-inner"
	LoadConfig func(path string, environ []string) (*config.Base, error)
	Migrations []pgdb.Migration
	Environ    []string
	Stdout     io.Writer
	Stderr     io.Writer
}

// exit unwinds kong's help and usage exits without ending the process.
type exit int

// Main parses args (the config file may also come from envPrefix+"CONFIG") into cli and runs the chosen command with ctx and app
// bound, printing "name: error" and returning a non-zero status on failure.
func Main(ctx context.Context, app *App, cli any, args []string, envPrefix string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(exit)
			if !ok {
				panic(r)
			}
			code = int(c)
		}
	}()
	parser, err := kong.New(cli, kong.Name(app.Name), kong.Writers(app.Stdout, app.Stderr),
		kong.Exit(func(c int) { panic(exit(c)) }), kong.UsageOnError(),
		kong.BindTo(ctx, (*context.Context)(nil)), kong.Bind(app),
		kong.Vars{"config_env": envPrefix + "CONFIG"})
	if err != nil {
		panic(err) // a malformed CLI struct is a programming error
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(app.Stderr, "%s: %v\n", app.Name, err)
		return 2
	}
	if err := kctx.Run(); err != nil {
		fmt.Fprintf(app.Stderr, "%s: %v\n", app.Name, err)
		return 1
	}
	return 0
}

// printJSON writes v as one JSON object on a line.
func printJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
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
		return printJSON(app.Stdout, map[string]any{"keys": pubs})
	}
	for _, p := range pubs {
		fmt.Fprintf(app.Stdout, "%s key (%s)\n  file:        %s\n  fingerprint: %s\n  compare:     %s\n\n",
			p.Name, p.Algorithm, p.File, p.Fingerprint, keys.Grouped(p.Fingerprint))
	}
	return nil
}

// ConfigFlag is the --config flag every command that touches the database has.
type ConfigFlag struct {
	Config string `short:"c" required:"" type:"existingfile" help:"Daemon configuration file." env:"${config_env}"`
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
	base, err := app.LoadConfig(c.Config, app.Environ)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(app.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := OpenDatabase(ctx, base, app.Migrations, Tool, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	password := account.GeneratePassword()
	hash, err := account.NewHasher(1).Hash(ctx, password)
	if err != nil {
		return err
	}
	u, err := account.NewStore(db.Pool).CreateUser(ctx, c.Username, "admin", hash, true)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(app.Stdout, map[string]any{"username": u.Username, "role": u.Role, "password": password, "must_change_password": true})
	}
	fmt.Fprintf(app.Stdout, "Created admin %q on %s.\nOne-time password (shown only now; it must be changed at first sign-in):\n\n    %s\n\n", u.Username, app.Name, password)
	return nil
}

// Logger returns the daemon's JSON logger on stderr at the configured level.
func Logger(w io.Writer, b *config.Base) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: b.LogLevel()}))
}

// PrintVersion prints the release, Go version and extra component versions.
func PrintVersion(app *App, asJSON bool, extra map[string]string) error {
	v := map[string]string{"name": app.Name, "version": buildinfo.Version, "go": buildinfo.GoVersion()}
	for k, x := range extra {
		v[k] = x
	}
	if asJSON {
		return printJSON(app.Stdout, v)
	}
	fmt.Fprintf(app.Stdout, "%s %s (%s", app.Name, buildinfo.Version, buildinfo.GoVersion())
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(app.Stdout, ", %s %s", k, extra[k])
	}
	fmt.Fprintln(app.Stdout, ")")
	return nil
}
