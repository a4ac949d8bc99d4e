package export

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/inner/requester"
	"sealgate/shared/account"
	"sealgate/shared/audit"
)

// Workflow is the export workflow over the inner's database: the camera
// registry, ingested footage, requests, decisions and the state machine
// (docs/architecture.md, "The export workflow"). The console and the CLI
// both go through it, so a rule holds whichever door is used.
type Workflow struct {
	pool  *pgxpool.Pool
	audit *audit.Log
	cfg   WorkflowConfig
}

// WorkflowConfig says where originals live and how approved exports start.
type WorkflowConfig struct {
	FootageDir string        // ingested originals (0700)
	Retention  time.Duration // how long an original is kept after ingest
	// Start queues an approved export's first stage inside the approval's
	// transaction, so an approval without its job cannot commit
	// (inner/pipeline provides it).
	Start func(ctx context.Context, tx pgx.Tx, exportID int64) error
	// KeepPassword keeps an offline export's chosen password where its
	// seal stage finds it (inner/pipeline provides it).
	KeepPassword func(exportID int64, password string) error
	// PII seals and opens the requester's name and phone
	// (inner/requester): the account service's, under pii.key.
	PII *account.PII
}

// New returns the workflow on pool, recording into log.
func New(pool *pgxpool.Pool, log *audit.Log, cfg WorkflowConfig) (*Workflow, error) {
	if cfg.FootageDir == "" || cfg.Retention <= 0 {
		return nil, errors.New("export: the workflow needs a footage directory and a retention period")
	}
	if cfg.PII == nil {
		return nil, fmt.Errorf("export: the workflow: %w", requester.ErrNoKey)
	}
	return &Workflow{pool: pool, audit: log, cfg: cfg}, nil
}

// Pool is the database the workflow runs on (the pipeline's queue shares it).
func (w *Workflow) Pool() *pgxpool.Pool { return w.pool }

func (w *Workflow) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, w.pool, fn)
}

func (w *Workflow) record(ctx context.Context, tx pgx.Tx, a Actor, action, target, outcome, detail string) error {
	return w.audit.AppendTx(ctx, tx, audit.Entry{Actor: a.Audited(), Action: action, Target: target, Outcome: outcome,
		Remote: a.Remote, Detail: detail})
}

// allowed checks the actor's role; a refusal is recorded as denied.
func (w *Workflow) allowed(ctx context.Context, a Actor, roles []string, action, target string) error {
	err := a.may(roles, action)
	if err == nil {
		return nil
	}
	return w.denied(ctx, a, action, target, err)
}

// denied records a refusal and returns it.
func (w *Workflow) denied(ctx context.Context, a Actor, action, target string, err error) error {
	if aerr := w.audit.Append(ctx, audit.Entry{Actor: a.Audited(), Action: action, Target: target, Outcome: audit.Denied,
		Remote: a.Remote, Detail: err.Error()}); aerr != nil {
		return errors.Join(err, fmt.Errorf("recording the refusal: %w", aerr))
	}
	return err
}
