// Package innerd is the sealgate-inner command: the appliance on the CCTV
// network. Its subcommands (see [daemon.CLI]) run the daemon, create keys and
// the first admin, and report the version of the OpenCV library it links.
package innerd

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"sealgate/appliance/daemon"
	"sealgate/inner/child"
	"sealgate/inner/console"
	"sealgate/inner/export"
	"sealgate/inner/ledger"
	"sealgate/inner/nvrimport"
	"sealgate/inner/outbox"
	"sealgate/inner/pipeline"
	"sealgate/inner/review"
	"sealgate/inner/store"
	"sealgate/inner/upload"
	"sealgate/inner/video"
	"sealgate/inner/watermark"
	"sealgate/shared/account"
	"sealgate/shared/accountui"
	"sealgate/shared/buildinfo"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/seal"
)

// Accounts are the inner daemon's roles; TOTP is mandatory for those that
// approve exports or administer.
var Accounts = account.Config{Issuer: "Sealgate inner console", Roles: []string{"admin", "operator", "approver", "auditor"}, TOTPRoles: []string{"admin", "approver"}}

// UI says who manages users, who reads the audit log, and the console's
// own pages.
var UI = accountui.Config{AppKey: "app.inner", AdminRoles: []string{"admin"}, AuditRoles: []string{"admin", "auditor"},
	Nav: console.Nav, Pages: console.Pages()}

// Main runs sealgate-inner with args (without the program name).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	// A child of the daemon confines itself before it reads anything.
	if err := child.Enter(); err != nil {
		fmt.Fprintln(stderr, "sealgate-inner:", err)
		return 2
	}
	if len(args) > 0 && args[0] == child.ExecCommand { // ffmpeg's flags are its own, not ours to parse
		fmt.Fprintln(stderr, "sealgate-inner:", child.ExecMain(args[1:]))
		return 2
	}
	return daemon.Main(ctx, &daemon.App{
		Name:      "sealgate-inner",
		EnvPrefix: config.InnerEnvPrefix,
		LoadConfig: func(path string, environ []string) (*config.Base, error) {
			c, err := config.LoadInner(path, environ)
			if err != nil {
				return nil, err
			}
			return &c.Base, nil
		},
		Serve:    serveFile,
		InitKeys: keys.InitInner,
		LoadSecrets: func(dir string) (*keys.Secrets, error) {
			k, err := keys.LoadInner(dir)
			if err != nil {
				return nil, err
			}
			return &k.Secrets, nil
		},
		Accounts:   Accounts,
		Migrations: store.Migrations(),
		Versions:   func() map[string]string { return map[string]string{"opencv": video.OpenCVVersion()} },
		Help:       map[string]string{"serve_help": "Run the inner daemon (console, metrics, private database).", "keys_init_help": "Create the Ed25519 signing key and the transfer identity (private files 0600).", "version_help": "Print the version and the linked OpenCV version."},
		Environ:    environ,
		Stdout:     stdout,
		Stderr:     stderr,
	}, &innerCLI{}, args)
}

// innerCLI is the shared daemon command tree plus the inner's own commands.
type innerCLI struct {
	daemon.CLI `embed:""`
	Seal       sealCmd      `cmd:"" help:"Seal a video into a signed, encrypted package (docs/package-format.md)."`
	Outbox     outboxCmd    `cmd:"" help:"Queue sealed packages for the paired outer appliance."`
	Mask       maskCmd      `cmd:"" help:"Mask faces, people and plates in a video (H.264 MP4 out, same frames and timestamps)."`
	Watermark  watermarkCmd `cmd:"" help:"Embed a 64-bit forensic watermark in a video (docs/watermark.md)."`
	Trace      traceCmd     `cmd:"" help:"Look for this appliance's watermark in a suspect copy; exit 0 whether found or not."`
	Ledger     ledgerCmd    `cmd:"" help:"The export ledger: every marked copy, who asked for it and why (docs/watermark.md)."`
	Camera     cameraCmd    `cmd:"" help:"The camera registry."`
	Footage    footageCmd   `cmd:"" help:"Ingested footage: each original with its SHA-256."`
	Export     exportCmd    `cmd:"" help:"Export requests: file, approve or reject, follow their pipeline (docs/export-workflow.md)."`
	// Shared by both daemons: apply, rollback, status.
	Update daemon.UpdateCmd `cmd:"" help:"Signed release updates (docs/updates.md)."`
	// The console's review editor talks to one of these per clip.
	ReviewWorker reviewWorkerCmd `cmd:"" name:"review-worker" hidden:"" help:"Serve one clip to the console's review editor over stdin/stdout."`
	TraceChild   traceChildCmd   `cmd:"" name:"trace-child" hidden:"" help:"Trace one suspect copy for the console, the key on stdin (a confined child)."`
	RenderChild  renderChildCmd  `cmd:"" name:"render-child" hidden:"" help:"Render one export for the pipeline, the job on stdin (a confined child)."`
	ProbeChild   probeChildCmd   `cmd:"" name:"probe-child" hidden:"" help:"Probe one file for ingest (a confined child)."`

	daemon.BackupCmds `embed:""`
}

func serveFile(ctx context.Context, path string, app *daemon.App) error {
	cfg, err := config.LoadInner(path, app.Environ)
	if err != nil {
		return err
	}
	log := daemon.Logger(app.Stderr, &cfg.Base)
	log.Info("starting", slog.String("version", buildinfo.Version), slog.String("opencv", video.OpenCVVersion()), slog.String("config", path))
	return Serve(ctx, cfg, app.Stdout, log, nil)
}

// Serve runs the inner daemon until ctx ends. It refuses to start without
// safe keys. started, if set, is told the bound addresses.
func Serve(ctx context.Context, cfg *config.Inner, out io.Writer, log *slog.Logger, started func(daemon.Addrs)) error {
	if err := child.Configure(child.Config{User: cfg.Children.User, MemoryMB: cfg.Children.MemoryMB, CPUTime: cfg.Children.CPUTime}); err != nil {
		return fmt.Errorf("children: %w", err)
	}
	k, err := keys.LoadInner(cfg.KeyDir)
	if err != nil {
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
		Secrets:  &k.Secrets,
		Config:   cfg,
		Accounts: Accounts,
		UI:       UI,
		Setup:    func(env daemon.Env) ([]daemon.Component, error) { return setup(cfg, k, env) },
		Out:      out,
		Started:  started,
		Dirs: []daemon.Dir{{Name: "footage", Path: cfg.Footage.Dir}, {Name: "exports", Path: cfg.Pipeline.WorkDir},
			{Name: "outbox", Path: outboxDir(&cfg.Base)}},
	}, log)
}

// setup builds the console and the transfer sender.
func setup(cfg *config.Inner, k *keys.Inner, env daemon.Env) ([]daemon.Component, error) {
	l, err := ledger.New(env.DB.Pool, env.Audit, cfg.ApplianceNumber)
	if err != nil {
		return nil, err
	}
	l.WithPII(env.Accounts.PII())
	// Setup has no context; sealing older requesters is bounded by the
	// table's size and must finish before the console serves.
	wf, err := newWorkflow(context.Background(), cfg, env.DB, env.Audit, env.Accounts.PII(), env.Log)
	if err != nil {
		return nil, err
	}
	// Uploads sit beside the originals, so a finished one is moved, not copied.
	uploads, err := upload.New(filepath.Join(cfg.Footage.Dir, ".uploads"), console.FootageLimit)
	if err != nil {
		return nil, err
	}
	con, err := console.New(console.Config{UI: env.UI, DB: env.DB.Pool, Audit: env.Audit, Ledger: l, Workflow: wf, Uploads: uploads,
		KeyDir: cfg.KeyDir, DataDir: cfg.DataDir, WorkDir: cfg.Pipeline.WorkDir, SiteName: cfg.SiteName, Signer: seal.KeyID(k.Signing.Public().(ed25519.PublicKey)),
		Log: env.Log.With(slog.String("component", "console"))})
	if err != nil {
		return nil, err
	}
	ob, err := outbox.New(env.DB.Pool, outboxDir(&cfg.Base), env.Audit)
	if err != nil {
		return nil, err
	}
	parts, err := sender(cfg, k, env, ob)
	if err != nil {
		return nil, err
	}
	for _, r := range con.Background() {
		parts = append(parts, r)
	}
	work, err := exportPipeline(cfg, k, env, wf, l, ob)
	if err != nil {
		return nil, err
	}
	return append(parts, work...), nil
}

// importInterval is how often the NVR export folder is looked at.
const importInterval = 15 * time.Second

// exportPipeline is this node's share of the export jobs, and the sweep
// that deletes originals at the end of their retention and offline
// packages not downloaded within the hand-over window, and the import of
// the NVR export folder when there is one.
func exportPipeline(cfg *config.Inner, k *keys.Inner, env daemon.Env, wf *export.Workflow, l *ledger.Ledger, ob *outbox.Outbox) ([]daemon.Component, error) {
	key, err := watermark.NewKey(k.Watermark)
	if err != nil {
		return nil, err
	}
	var license hpke.PublicKey
	if cfg.Transfer.OuterLicense != "" {
		if license, err = keys.ReadLicensePub(cfg.Transfer.OuterLicense); err != nil {
			return nil, fmt.Errorf("transfer.outer_license: %w", err)
		}
	}
	log := env.Log.With(slog.String("component", "pipeline"))
	reviews, err := review.NewWorkspaces(env.DB.Pool, filepath.Join(cfg.DataDir, "reviews")) // the console's, where a sent-back export's plan is saved
	if err != nil {
		return nil, err
	}
	p, err := pipeline.New(pipeline.Config{Reviews: reviews, Workflow: wf, Issuer: &export.Issuer{Ledger: l, Key: key}, WatermarkSecret: k.Watermark,
		Outbox: ob, Signer: k.Signing, Metrics: env.Metrics,
		License: license, WorkDir: cfg.Pipeline.WorkDir, Workers: cfg.Pipeline.Workers, Log: log,
		AlwaysRelease: cfg.Pipeline.ReleaseCheck == config.ReleaseAlways})
	if err != nil {
		return nil, err
	}
	retention := daemon.ComponentFunc(func(ctx context.Context) error {
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			if n, err := wf.ExpireFootage(ctx, time.Now()); err != nil && ctx.Err() == nil {
				log.Error("footage retention", slog.Any("err", err))
			} else if n > 0 {
				log.Info("footage deleted at the end of its retention", slog.Int("files", n))
			}
			if err := pipeline.RemoveCancelled(ctx, wf, cfg.Pipeline.WorkDir); err != nil && ctx.Err() == nil {
				log.Error("files of cancelled exports", slog.Any("err", err))
			}
			if n, err := pipeline.ExpireHandOvers(ctx, wf, time.Now().Add(-pipeline.HandOverWindow)); err != nil && ctx.Err() == nil {
				log.Error("offline packages not downloaded", slog.Any("err", err))
			} else if n > 0 {
				log.Info("offline packages deleted: not downloaded within the hand-over window", slog.Int("files", n))
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	})
	parts := []daemon.Component{p, retention}
	if dir := cfg.Footage.ImportDir; dir != "" {
		im := nvrimport.New(wf, dir, env.Log.With(slog.String("component", "import")))
		parts = append(parts, daemon.ComponentFunc(func(ctx context.Context) error { return im.Run(ctx, importInterval) }))
	}
	return parts, nil
}
