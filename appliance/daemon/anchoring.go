package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"log/syslog"
	"os"
	"sync/atomic"
	"time"

	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/config"
)

// anchoring exports the audit chain's head every cfg.AnchorEvery, and at
// start (docs/operations.md, "Audit anchors"): the chain is verified
// against the last anchor, then a new anchor replaces it in the anchor
// file and goes, as one JSON line, to the SIEM file and syslog when they
// are set. A chain that no longer holds the last anchor (a rewritten or
// truncated history) is not anchored again: the file keeps the evidence,
// and the SIEM and syslog get an audit_chain_broken event, every round
// until someone looks.
type anchoring struct {
	log    *audit.Log
	cfg    config.Audit
	daemon string // inner, outer
	slog   *slog.Logger
	state  atomic.Pointer[accountui.Event] // the last round's outcome, for the device page
}

// last is the last round's outcome; before the first, the anchor file's.
func (a *anchoring) last() *accountui.Event {
	if e := a.state.Load(); e != nil {
		return e
	}
	if an, ok, err := audit.ReadAnchorFile(a.cfg.AnchorFile); err == nil && ok {
		return &accountui.Event{At: an.AnchoredAt, OK: true, Detail: fmt.Sprintf("entry %d, MAC %.16s…", an.Seq, an.MAC)}
	}
	return nil
}

// event is one line for the SIEM file and syslog.
type event struct {
	Time   time.Time     `json:"time"`
	Event  string        `json:"event"` // sealgate.audit.anchor, sealgate.audit.broken
	Daemon string        `json:"daemon"`
	Host   string        `json:"host"`
	Anchor *audit.Anchor `json:"anchor,omitempty"`
	Seq    int64         `json:"first_bad_entry,omitempty"`
	Reason string        `json:"reason,omitempty"`
}

func (a *anchoring) Run(ctx context.Context) error {
	tick := time.NewTicker(a.cfg.AnchorEvery)
	defer tick.Stop()
	for {
		if err := a.round(ctx); err != nil && ctx.Err() == nil {
			a.slog.Error("audit anchor", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// round verifies the chain against the last anchor and exports a new one.
func (a *anchoring) round(ctx context.Context) error {
	prev, ok, err := audit.ReadAnchorFile(a.cfg.AnchorFile)
	if err != nil {
		return err
	}
	var held *audit.Anchor
	if ok {
		held = &prev
	}
	an, err := a.log.AnchorAfter(ctx, held) // one walk: held to the last anchor, then anchored
	if err != nil {
		return a.broken(err)
	}
	if err := audit.WriteAnchorFile(a.cfg.AnchorFile, an); err != nil {
		return err
	}
	a.slog.Info("audit chain anchored", slog.Int64("seq", an.Seq), slog.String("mac", an.MAC))
	a.state.Store(&accountui.Event{At: an.AnchoredAt, OK: true, Detail: fmt.Sprintf("entry %d, MAC %.16s…", an.Seq, an.MAC)})
	return a.export(event{Event: "sealgate.audit.anchor", Anchor: &an}, syslog.LOG_INFO)
}

// broken reports a chain that does not verify; a database that cannot be
// read is an error of its own, not a broken chain.
func (a *anchoring) broken(err error) error {
	var be *audit.BrokenError
	if !errors.As(err, &be) && !errors.Is(err, audit.ErrAnchorSignature) {
		return err
	}
	e := event{Event: "sealgate.audit.broken", Reason: err.Error()}
	if be != nil {
		e.Seq = be.Seq
	}
	a.slog.Error("the audit chain does not hold its last anchor: not anchored again", slog.Any("error", err))
	a.state.Store(&accountui.Event{At: time.Now(), Detail: err.Error()})
	return errors.Join(err, a.export(e, syslog.LOG_CRIT))
}

// export appends e to the SIEM file and sends it to syslog, each when set.
func (a *anchoring) export(e event, prio syslog.Priority) error {
	e.Time, e.Daemon = time.Now().UTC(), a.daemon
	e.Host, _ = os.Hostname()
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit anchor: %w", err)
	}
	var errs []error
	if a.cfg.SIEMFile != "" {
		errs = append(errs, appendLine(a.cfg.SIEMFile, line))
	}
	if a.cfg.Syslog != "" {
		errs = append(errs, a.sendSyslog(line, prio))
	}
	return errors.Join(errs...)
}

// appendLine appends one line in one write (O_APPEND: a shipper tailing
// the file never reads half of it). 0640: the shipper's group may read.
func appendLine(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("audit anchor: SIEM file: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if err := errors.Join(err, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("audit anchor: SIEM file: %w", err)
	}
	return nil
}

// sendSyslog sends one message, dialling each time: a syslog server that
// restarted between anchors is reached again.
func (a *anchoring) sendSyslog(line []byte, prio syslog.Priority) error {
	network, addr, err := a.cfg.SyslogTarget()
	if err != nil {
		return err
	}
	w, err := syslog.Dial(network, addr, syslog.LOG_AUTHPRIV|prio, "sealgate-"+a.daemon)
	if err != nil {
		return fmt.Errorf("audit anchor: syslog %s: %w", a.cfg.Syslog, err)
	}
	defer w.Close()
	if prio == syslog.LOG_CRIT {
		err = w.Crit(string(line))
	} else {
		err = w.Info(string(line))
	}
	if err != nil {
		return fmt.Errorf("audit anchor: syslog %s: %w", a.cfg.Syslog, err)
	}
	return nil
}
