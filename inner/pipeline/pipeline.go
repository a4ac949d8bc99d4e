// Package pipeline runs approved exports through their stages — cut or
// transcode, render (detect, mask and watermark in one encode), seal,
// outbox — as durable River jobs on the inner's PostgreSQL
// (docs/architecture.md, "The export pipeline"). A job survives a restart;
// a failed attempt retries with backoff, and the last failure is shown on
// the export. Any number of inner nodes on one database share the queue.
package pipeline

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"sealgate/inner/export"
	"sealgate/inner/outbox"
	"sealgate/inner/review"
)

// queue is the River queue of export stages.
const queue = "export"

// maxAttempts: a stage that fails this often fails its export; the
// operator reads why and retries.
const maxAttempts = 4

// StageArgs is one stage of one export: the job River keeps.
type StageArgs struct {
	ExportID int64  `json:"export_id"`
	Stage    string `json:"stage"`
	// Run tells apart the job that restarts a stage whose node died (see
	// [Pipeline.reclaim]) from the job that node was working.
	Run int `json:"run,omitempty"`
}

// Kind names the job in River's tables.
func (StageArgs) Kind() string { return "export_stage" }

// InsertOpts: one job per export and stage while it is pending, running
// or done, however often it is asked for (a duplicate run after a crash
// cannot queue the next stage twice).
func (StageArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Starter returns the function that queues an approved export's next
// stage inside the caller's transaction: for the console and the CLI,
// which only insert jobs.
func Starter(pool *pgxpool.Pool) (func(ctx context.Context, tx pgx.Tx, id int64) error, error) {
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	return func(ctx context.Context, tx pgx.Tx, id int64) error { return enqueueNext(ctx, client, tx, id) }, nil
}

// enqueueNext queues the first stage of export id that is neither done
// nor skipped.
func enqueueNext(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, id int64) error {
	var stage string
	var attempts int
	err := tx.QueryRow(ctx, `SELECT stage, attempts FROM export_stage WHERE export_id = $1 AND state NOT IN ('done', 'skipped')
		ORDER BY position LIMIT 1`, id).Scan(&stage, &attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pipeline: next stage of %d: %w", id, err)
	}
	// Run tells this job from the stage's earlier ones (a stage rendered
	// again after review), which stay in River's table as completed.
	if _, err := client.InsertTx(ctx, tx, StageArgs{ExportID: id, Stage: stage, Run: attempts}, nil); err != nil {
		return fmt.Errorf("pipeline: queue %s of export %d: %w", stage, id, err)
	}
	return nil
}

// Config is what the stages work with.
type Config struct {
	Workflow *export.Workflow
	Issuer   *export.Issuer // the ledger and the watermark key
	// WatermarkSecret is the secret Issuer.Key was made from: the render
	// child gets it on its stdin, never the key directory.
	WatermarkSecret []byte
	Outbox          *outbox.Outbox
	Signer          ed25519.PrivateKey
	// License is the paired outer's license key online exports are sealed
	// to; nil refuses online exports with a clear error.
	License   hpke.PublicKey
	WorkDir   string // each export's files, in WorkDir/<id> (0700)
	Workers   int    // stages at once on this node
	ModelsDir string // the detectors' models; empty: the default search
	Log       *slog.Logger
	// Detect overrides the detectors of a masked export (tests); nil: faces
	// at CCTV sizes, people and plates.
	Detect []string
	// AlwaysRelease makes every masked export wait for an approver's
	// release after its leak check; otherwise only one with suspects does.
	AlwaysRelease bool
	// Reviews are the review editor's workspaces, where an export sent
	// back to review finds its corrected plan.
	Reviews *review.Workspaces
	Metrics prometheus.Registerer // nil: nothing counted (metrics.go)
}

// Pipeline is this node's share of the queue's work.
type Pipeline struct {
	cfg    Config
	client *river.Client[pgx.Tx]
	m      *metrics
}

// New returns the pipeline on the workflow's database.
func New(cfg Config) (*Pipeline, error) {
	p := &Pipeline{cfg: cfg}
	m, err := newMetrics(cfg.Metrics, p)
	if err != nil {
		return nil, fmt.Errorf("pipeline: metrics: %w", err)
	}
	p.m = m
	workers := river.NewWorkers()
	river.AddWorker(workers, &stageWorker{p: p})
	client, err := river.NewClient(riverpgxv5.New(cfg.Workflow.Pool()), &river.Config{
		Queues:  map[string]river.QueueConfig{queue: {MaxWorkers: max(cfg.Workers, 1)}},
		Workers: workers,
		// A render takes as long as its clip. A stage whose node died is
		// found by its lease (export.Lease) and queued again at once
		// (reclaim); River's own rescue, after the timeout, only tidies
		// the dead node's job row, which then finds its stage done.
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: jobTimeout + time.Hour,
		RetryPolicy:          backoff{},
		// The next stage is queued as the last one commits; a short poll
		// beside River's notifications starts it at once even when the
		// notification went to another node.
		FetchPollInterval: 200 * time.Millisecond,
		// REINDEX needs the tables' owner, and the daemon serves as a role
		// that is not (docs/operations.md, "Database roles"); at a control
		// center's few jobs a day the indexes do not bloat.
		ReindexerSchedule: river.NeverSchedule(),
		Logger:            cfg.Log.With(slog.String("component", "river")),
	})
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	p.client = client
	return p, nil
}

// jobTimeout bounds one attempt of a stage: a day renders any clip a
// control center exports.
const jobTimeout = 24 * time.Hour

// Run works jobs until ctx ends, then lets running stages stop: a stage
// cut short is claimed again by the next node to start.
func (p *Pipeline) Run(ctx context.Context) error {
	if err := p.client.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return fmt.Errorf("pipeline: start: %w", err)
	}
	t := time.NewTicker(export.Lease / 3)
	defer t.Stop()
	for done := false; !done; {
		if err := p.reclaim(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Log.Warn("reclaim abandoned stages", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			done = true
		case <-t.C:
		}
	}
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := p.client.StopAndCancel(stop); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("pipeline: stop: %w", err)
	}
	return nil
}

// reclaim queues again every stage whose lease ran out: its node died
// (SIGKILL, power) in the middle of it. Whichever node releases the stage
// first queues the one new job; the dead node's job row stays running in
// River until its timeout and then finds the stage done.
func (p *Pipeline) reclaim(ctx context.Context) error {
	stages, err := p.cfg.Workflow.Abandoned(ctx)
	if err != nil {
		return err
	}
	for _, st := range stages {
		err := pgx.BeginFunc(ctx, p.cfg.Workflow.Pool(), func(tx pgx.Tx) error {
			released, err := p.cfg.Workflow.ReleaseAbandoned(ctx, tx, st.ExportID, st.Stage)
			if err != nil || !released {
				return err
			}
			_, err = p.client.InsertTx(ctx, tx, StageArgs{ExportID: st.ExportID, Stage: st.Stage, Run: st.Attempts}, nil)
			return err
		})
		if err != nil {
			return fmt.Errorf("pipeline: reclaim %s of export %d: %w", st.Stage, st.ExportID, err)
		}
		p.cfg.Log.Warn("stage abandoned by a node that stopped; queued again", slog.Int64("export", st.ExportID), slog.String("stage", st.Stage))
	}
	return nil
}

// backoff waits 10 s, 40 s, 90 s… between attempts of a stage: long enough
// for a full disk to be cleared or a restarted database to come back.
type backoff struct{}

func (backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(time.Duration(10*math.Pow(float64(job.Attempt), 2)) * time.Second)
}

type stageWorker struct {
	river.WorkerDefaults[StageArgs]
	p *Pipeline
}

// permanent marks an error no retry can mend (bad footage, a missing
// license key): the export fails at once.
type permanent struct{ error }

func (e permanent) Unwrap() error { return e.error }

func (w *stageWorker) Work(ctx context.Context, job *river.Job[StageArgs]) error {
	p, id, stage := w.p, job.Args.ExportID, job.Args.Stage
	wf := p.cfg.Workflow
	done, err := wf.BeginStage(ctx, id, stage)
	switch {
	case errors.Is(err, export.ErrLeased):
		return river.JobSnooze(export.Lease)
	case err != nil:
		return err
	case done:
		return nil
	}
	j, err := wf.Job(ctx, id)
	if err == nil {
		err = p.enter(ctx, j, stage)
	}
	if errors.Is(err, errGone) {
		return wf.FailStage(ctx, id, stage, err, false)
	}
	start := time.Now()
	if err == nil {
		var progress atomic.Value
		progress.Store([2]float64{})
		beat, stopBeat := context.WithCancel(ctx)
		go p.heartbeat(beat, id, stage, &progress)
		err = p.run(ctx, j, stage, func(frac, fps float64) { progress.Store([2]float64{frac, fps}) })
		stopBeat()
	}
	if err == nil {
		p.cfg.Log.Info("stage done", slog.Int64("export", id), slog.String("stage", stage))
		p.m.attempt(stage, start, nil, false)
		return nil
	}
	if ctx.Err() != nil {
		// This node is stopping: the stage goes back to the queue for
		// whichever node runs next (this one after a restart).
		if rerr := wf.ReleaseStage(context.WithoutCancel(ctx), id, stage); rerr != nil {
			return errors.Join(ctx.Err(), rerr)
		}
		return river.JobSnooze(time.Second)
	}
	var perm permanent
	final := errors.As(err, &perm) || job.Attempt >= job.MaxAttempts
	p.m.attempt(stage, start, err, final)
	p.cfg.Log.Warn("stage failed", slog.Int64("export", id), slog.String("stage", stage), slog.Int("attempt", job.Attempt),
		slog.Bool("final", final), slog.Any("err", err))
	if ferr := wf.FailStage(context.WithoutCancel(ctx), id, stage, err, final); ferr != nil {
		return errors.Join(err, ferr)
	}
	if final {
		return river.JobCancel(err)
	}
	return err
}

// errGone: the export was cancelled (or failed) while its job waited.
var errGone = errors.New("pipeline: the export is no longer in the pipeline")

// enter moves the export into the stage's state: an approved export
// starts transcoding; later stages find the export already where the
// stage before left it.
func (p *Pipeline) enter(ctx context.Context, j *export.Job, stage string) error {
	want := export.StageState(stage)
	switch {
	case j.State == want:
		return nil
	case j.State == export.Approved && stage == "transcode":
		return pgx.BeginFunc(ctx, p.cfg.Workflow.Pool(), func(tx pgx.Tx) error {
			return p.cfg.Workflow.Advance(ctx, tx, export.System, j.ID, export.Approved, export.Transcoding, "pipeline started")
		})
	}
	return fmt.Errorf("%w: export %d is %s", errGone, j.ID, j.State)
}

func (p *Pipeline) heartbeat(ctx context.Context, id int64, stage string, progress *atomic.Value) {
	t := time.NewTicker(export.Lease / 6)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			v := progress.Load().([2]float64)
			if err := p.cfg.Workflow.Beat(ctx, id, stage, v[0], v[1]); err != nil && ctx.Err() == nil {
				p.cfg.Log.Warn("heartbeat", slog.Int64("export", id), slog.Any("err", err))
			}
		}
	}
}

// finish ends a stage in one transaction: the stage's own records, its
// state, the export's next state, and the next stage's job.
func (p *Pipeline) finish(ctx context.Context, id int64, stage, state string, from, to string, also func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, p.cfg.Workflow.Pool(), func(tx pgx.Tx) error {
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		if err := p.cfg.Workflow.FinishStage(ctx, tx, id, stage, state); err != nil {
			return err
		}
		if from != to {
			if err := p.cfg.Workflow.Advance(ctx, tx, export.System, id, from, to, stage+" "+state); err != nil {
				return err
			}
		}
		if to == export.Checking {
			return nil // the approver's release queues the seal
		}
		return enqueueNext(ctx, p.client, tx, id)
	})
}
