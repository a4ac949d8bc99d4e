// Package daemon is what sealgate-inner and sealgate-outer share as
// processes: opening the database (external or private), serving the
// HTTPS web UI and the metrics listener, readiness, graceful shutdown, and
// the admin commands both have (keys show, admin create, audit verify and
// anchor, database migrate, backup and restore).
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"sealgate/shared/account"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/metrics"
	"sealgate/shared/pgdb"
	"sealgate/shared/web"
)

// Spec describes one daemon to Serve.
type Spec struct {
	Name       string // "inner" or "outer"
	Base       *config.Base
	Web        config.HTTPS // console (inner) or portal (outer)
	Migrations []pgdb.Migration
	// KeysReady re-checks the key files for /readyz; the keys themselves were
	// loaded (and unsafe ones refused) before Serve was called.
	KeysReady web.Check
	Secrets   *keys.Secrets
	// Accounts and UI name the daemon's roles, who needs TOTP, who manages
	// users and who reads the audit log.
	Accounts account.Config
	UI       accountui.Config
	// Setup builds the daemon's own parts: it adds pages through Env.UI
	// (whose Handle enforces roles, sign-in and CSRF) and returns the
	// components that run beside the servers (the transfer sender or
	// receiver, the review editor's workers).
	Setup func(Env) ([]Component, error)
	// Config is the effective configuration, recorded (hashed) in the audit
	// log at every start, so a changed configuration is on record.
	Config any
	// Started, if set, is called once both listeners are bound and the
	// database is open: what `make run` and tests wait for.
	Started func(Addrs)
	// Out receives the human-readable start-up lines (URL, certificate fingerprint).
	Out io.Writer
	// Dirs are the daemon's own directories (footage, packages) whose
	// free space /metrics (monitor.go) and the device page show beside
	// data_dir's.
	Dirs []Dir
}

// Env is what Spec.Setup builds a daemon's parts from.
type Env struct {
	UI       *accountui.UI
	Accounts *account.Service
	DB       *Database
	Audit    *audit.Log
	Metrics  prometheus.Registerer
	Log      *slog.Logger
}

// A Component is a background part of a daemon. Run returns when ctx ends
// (nil) or when the part cannot go on (an error, which stops the daemon);
// the daemon waits for every Run to return before it closes the database
// (docs/architecture.md, "Lifecycle").
type Component interface {
	Run(ctx context.Context) error
}

// ComponentFunc makes a function a Component.
type ComponentFunc func(ctx context.Context) error

// Run calls f.
func (f ComponentFunc) Run(ctx context.Context) error { return f(ctx) }

// Addrs are the addresses a daemon serves on.
type Addrs struct {
	Web, Metrics    net.Addr
	CertFingerprint string
	Routes          []accountui.Route // the web UI's access table
}

// Serve runs the daemon until ctx ends, then shuts the listeners down within
// the configured grace and stops the database last.
func Serve(ctx context.Context, s Spec, log *slog.Logger) (err error) {
	// Created first and traversable (0711): the private database, run as
	// another user under root, must reach data_dir/pg; tls/ and keys/ below
	// it stay 0700.
	if err := os.MkdirAll(s.Base.DataDir, 0o711); err != nil {
		return fmt.Errorf("create data_dir: %w", err)
	}
	unlock, err := lockDataDir(s.Base.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	cert, err := web.LoadOrCreateCert(s.Web.TLSCert, s.Web.TLSKey, filepath.Join(s.Base.DataDir, "tls"), s.Web.Hostnames)
	if err != nil {
		return err
	}
	token, err := s.Base.Metrics.BearerToken()
	if err != nil {
		return fmt.Errorf("metrics.bearer_token_file: %w", err)
	}
	metricsScheme := "http"
	var metricsTLS *tls.Config
	if s.Base.Metrics.TLS {
		metricsTLS, metricsScheme = web.TLSConfig(cert.TLS), "https"
	}
	lns, err := web.Listen(s.Web.Listen, s.Base.Metrics.Listen)
	if err != nil {
		return err
	}
	db, err := OpenDatabase(ctx, s.Base, s.Migrations, Owner, log)
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return fmt.Errorf("open database: %w", err)
	}
	defer func() { err = errors.Join(err, db.Close()) }()

	reg := metrics.NewRegistry(s.Name)
	auditLog := audit.New(db.Pool, s.Secrets.Audit)
	acfg := s.Accounts
	acfg.PIIKey, acfg.Audit = s.Secrets.PII, auditLog
	svc, err := account.NewService(ctx, db.Pool, acfg)
	if err != nil {
		return err
	}
	if err := recordStart(ctx, auditLog, s.Config); err != nil {
		return err
	}
	e := web.New(log.With(slog.String("component", "http")))
	web.Health(e, map[string]web.Check{
		"database": func(ctx context.Context) error { return db.Pool.Ping(ctx) },
		"schema":   func(ctx context.Context) error { return pgdb.CheckSchema(ctx, db.Pool, s.Migrations) },
		"keys":     s.KeysReady,
	})
	anchor := &anchoring{log: auditLog, cfg: s.Base.Audit, daemon: s.Name, slog: log.With(slog.String("component", "audit"))}
	uiCfg := s.UI
	uiCfg.Metrics = reg
	uiCfg.Device = (&device{spec: &s, cert: cert, log: auditLog, started: time.Now(), anchor: anchor}).facts
	ui := accountui.New(e, svc, auditLog, uiCfg, log.With(slog.String("component", "ui")))
	verifier, err := monitor(s, reg, auditLog, svc, log.With(slog.String("component", "monitor")))
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	parts := []Component{verifier}
	if s.Setup != nil {
		env := Env{UI: ui, Accounts: svc, DB: db, Audit: auditLog, Metrics: reg, Log: log}
		own, err := s.Setup(env)
		if err != nil {
			return fmt.Errorf("setting up the %s daemon: %w", s.Name, err)
		}
		parts = append(parts, own...)
	}
	parts = append(parts, anchor)

	addrs := Addrs{Web: lns[0].Addr(), Metrics: lns[1].Addr(), CertFingerprint: cert.Fingerprint, Routes: ui.Routes()}
	log.Info("serving", slog.String("daemon", s.Name), slog.String("url", "https://"+addrs.Web.String()+"/"),
		slog.String("metrics", metricsScheme+"://"+addrs.Metrics.String()+"/metrics"),
		slog.String("tls_fingerprint", cert.Fingerprint), slog.Bool("tls_generated", cert.Generated))
	if s.Out != nil {
		fmt.Fprintf(s.Out, "sealgate-%s: serving https://%s/ (certificate %s)\n", s.Name, addrs.Web, cert.Fingerprint)
	}
	if s.Started != nil {
		s.Started(addrs)
	}

	g, gctx := errgroup.WithContext(ctx)
	for _, p := range parts {
		g.Go(func() error { return p.Run(gctx) })
	}
	httpLog := log.With(slog.String("component", "http"))
	g.Go(func() error {
		return web.Serve(gctx, lns[0], e, web.TLSConfig(cert.TLS), s.Base.ShutdownGrace, httpLog)
	})
	g.Go(func() error {
		return web.Serve(gctx, lns[1], metrics.Handler(reg, token), metricsTLS, s.Base.ShutdownGrace, httpLog)
	})
	err = g.Wait()
	log.Info("stopped serving", slog.String("daemon", s.Name), slog.Any("error", err))
	return err
}
