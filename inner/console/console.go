// Package console is the inner appliance's web console beyond accounts:
// the export workflow (cameras, footage, requests, approval, live
// progress), the review editor, the watermark trace and the export ledger. Each
// handler is one file named noun_verb.go; routes.go says who may use each
// route. Handlers are thin: rules live in inner/mask/plan, records in
// inner/review and inner/ledger, and anything that decodes a hostile file
// runs in a child process (docs/architecture.md, "Where things live").
package console

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/inner/export"
	"sealgate/inner/ledger"
	"sealgate/inner/review"
	"sealgate/inner/upload"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/review.js
var reviewJS []byte

//go:embed static/workflow.js
var workflowJS []byte

//go:embed static/print.js
var printJS []byte

// Pages are the console's templates, for accountui.Config.Pages.
func Pages() fs.FS {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		panic(err)
	}
	return sub
}

// Review editor limits: frames are shown at most displayWidth wide (scaled
// by a whole factor); live workers hold a decoder and a clip's index each.
const (
	ReviewUploadLimit = 4 << 30
	displayWidth      = 960
	maxWorkers        = 2
	workerIdle        = 5 * time.Minute
)

// Trace limits: a suspect copy can be long (the detector reads at most
// watermark.MaxFrames frames of it); one trace runs at a time.
const (
	TraceUploadLimit = 4 << 30
	traceTimeout     = 15 * time.Minute
	ledgerPageRows   = 50
	copiesPageRows   = 500
	printRows        = 5000
)

// Footage uploads: a clip arrives in chunks of UploadChunk (resumable), up
// to FootageLimit; an upload untouched for a day is removed.
const (
	UploadChunk    = 32 << 20
	FootageLimit   = 64 << 30
	uploadIdle     = 24 * time.Hour
	exportPageRows = 200
)

// Config is what the console is built from.
type Config struct {
	UI     *accountui.UI
	DB     *pgxpool.Pool
	Audit  *audit.Log
	Ledger *ledger.Ledger
	// Workflow is the export workflow; Uploads keeps footage uploads in
	// progress (under the footage directory's file system).
	Workflow *export.Workflow
	Uploads  *upload.Store
	KeyDir   string // where a trace's child finds the watermark key
	// WorkDir is the pipeline's (offline packages wait there for their
	// hand-over); Signer is the id of the key that signs packages.
	WorkDir string
	Signer  string
	// SiteName heads the ledger's printouts and reports (config
	// site_name); empty: the appliance's number.
	SiteName string
	// DataDir holds reviews/ (the clips under review) and tmp/ (uploads
	// being traced).
	DataDir string
	Log     *slog.Logger
}

// Console serves the pages. Its background parts (the review analysis and
// the review workers) must run for as long as it serves: see Background.
type Console struct {
	ui       *accountui.UI
	audit    *audit.Log
	ledger   *ledger.Ledger
	reviews  *review.Workspaces
	workers  *review.Pool
	analyser *review.Analyser
	keyDir   string
	tmpDir   string
	busy     chan struct{} // one trace at a time: it takes both cores
	xlsx     chan struct{} // one ledger workbook at a time: excelize holds the zip in memory
	log      *slog.Logger
	workflow *export.Workflow
	uploads  *upload.Store
	live     *live
	workDir  string
	signer   string
	views    viewGrants
	raw      *rawViews
	site     string
	db       *pgxpool.Pool // for the statistics' read-only queries
}

// New builds the console and adds its routes to cfg.UI. It removes uploads
// a stopped daemon left behind: suspect copies are evidence of someone
// else's privacy and are kept no longer than their trace.
func New(cfg Config) (*Console, error) {
	ws, err := review.NewWorkspaces(cfg.DB, filepath.Join(cfg.DataDir, "reviews"))
	if err != nil {
		return nil, err
	}
	c := &Console{ui: cfg.UI, audit: cfg.Audit, ledger: cfg.Ledger, reviews: ws,
		workers: review.NewPool(maxWorkers, workerIdle), analyser: review.NewAnalyser(ws, cfg.Log.With(slog.String("component", "review"))),
		keyDir: cfg.KeyDir, tmpDir: filepath.Join(cfg.DataDir, "tmp"), busy: make(chan struct{}, 1), xlsx: make(chan struct{}, 1), log: cfg.Log,
		workflow: cfg.Workflow, uploads: cfg.Uploads, live: newLive(cfg.DB), workDir: cfg.WorkDir, signer: cfg.Signer, site: cfg.SiteName, db: cfg.DB,
		raw: newRawViews(cfg.Audit, cfg.Log.With(slog.String("component", "review")))}
	if err := os.MkdirAll(c.tmpDir, 0o700); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	stale, _ := filepath.Glob(filepath.Join(c.tmpDir, "trace-*.upload"))
	for _, f := range stale {
		os.Remove(f)
	}
	c.routes()
	return c, nil
}

// A Runner is a background part the daemon runs until it stops.
type Runner interface {
	Run(ctx context.Context) error
}

// Background are the parts the daemon must run beside the console.
func (c *Console) Background() []Runner {
	return []Runner{c.analyser, c.workers, c.live, runnerFunc(c.expireUploads), c.raw}
}

type runnerFunc func(context.Context) error

func (f runnerFunc) Run(ctx context.Context) error { return f(ctx) }

// expireUploads removes, hourly, uploads abandoned for a day.
func (c *Console) expireUploads(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := c.uploads.Expire(uploadIdle); err != nil {
			c.log.Warn("expire uploads", slog.Any("err", err))
		} else if n > 0 {
			c.log.Info("abandoned uploads removed", slog.Int("files", n))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
