package innerd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"

	"sealgate/appliance/cli"
	"sealgate/appliance/daemon"
	"sealgate/inner/export"
	"sealgate/inner/pipeline"
	"sealgate/inner/requester"
	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
)

// newWorkflow is the export workflow on the daemon's database, its
// approvals queuing pipeline jobs there, the requesters' personal data
// under pii (the account service's). Requesters filed before they were
// encrypted are sealed first, so no export is read in clear
// (docs/ledger.md, "Personal data").
func newWorkflow(ctx context.Context, cfg *config.Inner, db *daemon.Database, log *audit.Log, pii *account.PII, lg *slog.Logger) (*export.Workflow, error) {
	start, err := pipeline.Starter(db.Pool)
	if err != nil {
		return nil, err
	}
	wf, err := export.New(db.Pool, log, export.WorkflowConfig{FootageDir: cfg.Footage.Dir,
		Retention: time.Duration(cfg.Footage.RetentionDays) * 24 * time.Hour, Start: start,
		KeepPassword: pipeline.KeepPassword(cfg.Pipeline.WorkDir), PII: pii})
	if err != nil {
		return nil, err
	}
	n, err := requester.SealLegacy(ctx, db.Pool, pii)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		lg.Info("requesters filed before encryption sealed", slog.Int("exports", n))
	}
	return wf, nil
}

// asFlag names the console user a command acts for (DESIGN: audited as
// cli:<user>, with that user's role and every rule the console applies).
type asFlag struct {
	As string `name:"as" placeholder:"USER" help:"Console user the action is taken for (audited as cli:USER, with that user's role)."`
}

// withWorkflow opens the configured database and runs fn with the workflow
// and the actor: the --as user, or, when as is empty and root may act
// alone (camera and footage commands), the appliance's root shell,
// recorded as cli.
func withWorkflow(ctx context.Context, app *daemon.App, configPath, as string, rootMay bool, fn func(*config.Inner, *export.Workflow, export.Actor) error) error {
	cfg, err := config.LoadInner(configPath, app.Environ)
	if err != nil {
		return err
	}
	if as == "" && !rootMay {
		return errors.New("--as USER is required: name the console user this is done for")
	}
	return daemon.WithDatabase(ctx, app, configPath, func(_ *config.Base, db *daemon.Database, log *audit.Log, secrets *keys.Secrets) error {
		pii, err := account.NewPII(secrets.PII)
		if err != nil {
			return err
		}
		wf, err := newWorkflow(ctx, cfg, db, log, pii, slog.New(slog.NewJSONHandler(app.Stderr, nil)))
		if err != nil {
			return err
		}
		actor := export.Root
		if as != "" {
			svc, err := daemon.AccountService(ctx, app, db, log, secrets)
			if err != nil {
				return err
			}
			u, err := svc.ByName(ctx, as)
			if errors.Is(err, account.ErrNoUser) {
				return fmt.Errorf("--as %s: no such console user", as)
			} else if err != nil {
				return err
			}
			if u.Disabled {
				return fmt.Errorf("--as %s: the account is disabled", as)
			}
			actor = export.Actor{User: u.Username, Role: u.Role, Via: "cli"}
		}
		return fn(cfg, wf, actor)
	})
}

type cameraCmd struct {
	Add  cameraAddCmd  `cmd:"" help:"Register a camera."`
	List cameraListCmd `cmd:"" help:"List the cameras in service (--retired: all)."`
}

type cameraAddCmd struct {
	daemon.ConfigFlag
	asFlag
	Name      string   `required:"" help:"Camera name, unique among cameras in service."`
	Location  string   `required:"" help:"Where it is (address text)."`
	VMSID     string   `name:"vms-id" help:"The camera's id in the VMS/NVR."`
	Kind      string   `default:"fixed" enum:"fixed,dome,ptz,bullet,other" help:"Camera type: fixed, dome, ptz, bullet, other."`
	Latitude  *float64 `help:"Latitude (with --longitude)."`
	Longitude *float64 `help:"Longitude (with --latitude)."`
	JSON      bool     `help:"Print one JSON object."`
}

func (c *cameraAddCmd) Run(ctx context.Context, app *daemon.App) error {
	return withWorkflow(ctx, app, c.Config, c.As, true, func(_ *config.Inner, wf *export.Workflow, a export.Actor) error {
		cam, err := wf.AddCamera(ctx, a, export.Camera{Name: c.Name, Location: c.Location, VMSID: c.VMSID, Kind: c.Kind,
			Latitude: c.Latitude, Longitude: c.Longitude})
		if err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, cam)
		}
		fmt.Fprintf(app.Stdout, "Camera %d registered: %s at %s.\n", cam.ID, cam.Name, cam.Location)
		return nil
	})
}

type cameraListCmd struct {
	daemon.ConfigFlag
	Retired bool `help:"Include retired cameras."`
	JSON    bool `help:"Print one JSON object."`
}

func (c *cameraListCmd) Run(ctx context.Context, app *daemon.App) error {
	return withWorkflow(ctx, app, c.Config, "", true, func(_ *config.Inner, wf *export.Workflow, _ export.Actor) error {
		cams, err := wf.Cameras(ctx, c.Retired)
		if err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, map[string]any{"cameras": cams})
		}
		for _, cam := range cams {
			retired := ""
			if cam.RetiredAt != nil {
				retired = "  (retired)"
			}
			fmt.Fprintf(app.Stdout, "%4d  %-24s  %-6s  %s%s\n", cam.ID, cam.Name, cam.Kind, cam.Location, retired)
		}
		return nil
	})
}

type footageCmd struct {
	Import footageImportCmd `cmd:"" help:"Ingest a video file for a camera: copied, hashed (SHA-256) and probed."`
	List   footageListCmd   `cmd:"" help:"List ingested footage, newest first."`
}

type footageImportCmd struct {
	daemon.ConfigFlag
	asFlag
	Camera int64  `required:"" help:"Camera id (camera list)."`
	File   string `required:"" type:"existingfile" help:"Video file to ingest (left in place)."`
	JSON   bool   `help:"Print one JSON object."`
}

func (c *footageImportCmd) Run(ctx context.Context, app *daemon.App) error {
	return withWorkflow(ctx, app, c.Config, c.As, true, func(_ *config.Inner, wf *export.Workflow, a export.Actor) error {
		f, err := wf.ImportFile(ctx, a, c.Camera, c.File)
		if err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, f)
		}
		fmt.Fprintf(app.Stdout, "Footage %d ingested for camera %d: %d×%d %s, %d frames at %.3g fps (%.1f s).\n  SHA-256: %s\n",
			f.ID, f.CameraID, f.Width, f.Height, f.Codec, f.Frames, f.FPS, f.DurationS, f.SHA256)
		return nil
	})
}

type footageListCmd struct {
	daemon.ConfigFlag
	Camera int64 `help:"Only this camera's."`
	JSON   bool  `help:"Print one JSON object."`
}

func (c *footageListCmd) Run(ctx context.Context, app *daemon.App) error {
	return withWorkflow(ctx, app, c.Config, "", true, func(_ *config.Inner, wf *export.Workflow, _ export.Actor) error {
		fs, err := wf.FootageOf(ctx, c.Camera)
		if err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, map[string]any{"footage": fs})
		}
		for _, f := range fs {
			fmt.Fprintf(app.Stdout, "%4d  camera %-4d  %s  %4d×%-4d  %6.1f s  %s\n", f.ID, f.CameraID, f.ImportedAt.Local().Format("2006-01-02 15:04"),
				f.Width, f.Height, f.DurationS, f.FileName)
		}
		return nil
	})
}

type exportCmd struct {
	Request        exportRequestCmd  `cmd:"" help:"File a police request for footage (an operator)."`
	Approve        exportApproveCmd  `cmd:"" help:"Approve a request (an approver who did not file it); its pipeline starts."`
	Reject         exportRejectCmd   `cmd:"" help:"Reject a request with --reason (an approver who did not file it)."`
	Release        exportReleaseCmd  `cmd:"" help:"Release a checked export to be sealed (an approver who did not file it), confirming each suspect frame of its leak check by number (export show lists them)."`
	ApproveViewing exportViewingCmd  `cmd:"" name:"approve-viewing" help:"Approve a viewing period longer than 30 days, with --reason (an admin who did not file it); the approver decides after."`
	Cancel         exportCancelCmd   `cmd:"" help:"Withdraw a request before it renders (its requester, or an approver), with --reason."`
	Retry          exportRetryCmd    `cmd:"" help:"Send a failed export back into its pipeline where it failed."`
	Handover       exportHandoverCmd `cmd:"" help:"Hand an offline export over: the sealed file copied out once, its password and the slip shown once."`
	Show           exportShowCmd     `cmd:"" help:"Show one export: its state, each stage, its history."`
	List           exportListCmd     `cmd:"" help:"List exports, newest first."`
}

type exportRequestCmd struct {
	daemon.ConfigFlag
	asFlag
	Footage       int64  `help:"Footage id (footage list)."`
	Camera        int64  `help:"Instead of --footage: the camera whose recording covers --from to --to (times of day: RFC 3339, or 2006-01-02T15:04:05 in the appliance's zone)."`
	Reason        string `required:"" enum:"theft,assault,traffic_accident,missing_person,property_damage,other" help:"Reason code: theft, assault, traffic_accident, missing_person, property_damage, other."`
	Detail        string `required:"" help:"What happened, why the footage is needed."`
	RequesterName string `name:"requester-name" required:"" help:"The requesting officer's name."`
	Agency        string `required:"" help:"The requesting agency."`
	Phone         string `help:"The requester's phone."`
	DocumentNo    string `name:"document-no" required:"" help:"The official request document's number."`
	Recipient     string `required:"" help:"The officer's account at the outer portal who receives the clip."`
	ViewingDays   int    `name:"viewing-days" required:"" help:"Viewing period in days: 7, 15 or 30."`
	From          string `help:"Cut from: seconds (90), h:m:s (00:01:30), or a time of day (RFC 3339, or 2006-01-02T15:04:05 in the appliance's zone)."`
	To            string `help:"Cut to, as --from."`
	Transcode     string `default:"keep" enum:"keep,720p" help:"keep the resolution, or 720p."`
	NoMask        bool   `name:"no-mask" help:"Do not mask (needs --justification; trust rule 4)."`
	Justification string `help:"Why the export is not masked."`
	Offline       bool   `help:"Deliver as a password-sealed file handed over on media, not to the paired outer."`
	PasswordFile  string `name:"password-file" help:"With --offline: a file holding the password the requester chose (at least 12 characters); otherwise one is generated."`
	JSON          bool   `help:"Print one JSON object."`
}

func (c *exportRequestCmd) Run(ctx context.Context, app *daemon.App) error {
	var password string
	if c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return fmt.Errorf("--password-file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	return withWorkflow(ctx, app, c.Config, c.As, false, func(_ *config.Inner, wf *export.Workflow, a export.Actor) error {
		id, err := wf.File(ctx, a, export.Request{Password: password, FootageID: c.Footage, CameraID: c.Camera, ReasonCode: c.Reason, Detail: c.Detail, RequesterName: c.RequesterName,
			Agency: c.Agency, Phone: c.Phone, DocumentNo: c.DocumentNo, Recipient: c.Recipient, ViewingDays: c.ViewingDays, From: c.From,
			To: c.To, Transcode: c.Transcode, NoMask: c.NoMask, Justification: c.Justification, Offline: c.Offline})
		if err != nil {
			return err
		}
		return printState(ctx, app, wf, id, c.JSON, "Export %d filed (%s); it waits for an approver.\n")
	})
}

func printState(ctx context.Context, app *daemon.App, wf *export.Workflow, id int64, asJSON bool, text string) error {
	e, err := wf.Show(ctx, id)
	if err != nil {
		return err
	}
	if asJSON {
		return cli.PrintJSON(app.Stdout, map[string]any{"id": e.ID, "code": e.Code, "state": e.State})
	}
	fmt.Fprintf(app.Stdout, text, e.ID, e.Code)
	return nil
}

// exportDecideCmd is approve, reject, cancel and retry: one export, a
// reason, for a user.
type exportDecideCmd struct {
	daemon.ConfigFlag
	asFlag
	ID     int64  `arg:"" help:"Export id."`
	Reason string `help:"Why (required to reject or cancel)."`
	JSON   bool   `help:"Print one JSON object."`
}

type (
	exportApproveCmd struct{ exportDecideCmd }
	exportRejectCmd  struct{ exportDecideCmd }
	exportCancelCmd  struct{ exportDecideCmd }
	exportRetryCmd   struct{ exportDecideCmd }
	exportViewingCmd struct{ exportDecideCmd }
)

// exportReleaseCmd releases an export waiting in state checking.
type exportReleaseCmd struct {
	exportDecideCmd
	Confirm []int `sep:"," help:"The suspect frames' numbers (0, 1, …, as in export show's leaks.suspects), each looked at and found to show no one."`
}

func (c *exportReleaseCmd) Run(ctx context.Context, app *daemon.App) error {
	return withWorkflow(ctx, app, c.Config, c.As, false, func(_ *config.Inner, wf *export.Workflow, a export.Actor) error {
		if err := wf.Release(ctx, a, c.ID, c.Confirm, c.Reason); err != nil {
			return err
		}
		return printState(ctx, app, wf, c.ID, c.JSON, "Export %d (%s): released to be sealed.\n")
	})
}

func (c *exportViewingCmd) Run(ctx context.Context, app *daemon.App) error {
	return c.run(ctx, app, "approve-viewing")
}

func (c *exportApproveCmd) Run(ctx context.Context, app *daemon.App) error {
	return c.run(ctx, app, "approve")
}
func (c *exportRejectCmd) Run(ctx context.Context, app *daemon.App) error {
	return c.run(ctx, app, "reject")
}
func (c *exportCancelCmd) Run(ctx context.Context, app *daemon.App) error {
	return c.run(ctx, app, "cancel")
}
func (c *exportRetryCmd) Run(ctx context.Context, app *daemon.App) error {
	return c.run(ctx, app, "retry")
}

func (c *exportDecideCmd) run(ctx context.Context, app *daemon.App, verb string) error {
	return withWorkflow(ctx, app, c.Config, c.As, false, func(_ *config.Inner, wf *export.Workflow, a export.Actor) error {
		var err error
		switch verb {
		case "approve":
			err = wf.Approve(ctx, a, c.ID, c.Reason)
		case "reject":
			err = wf.Reject(ctx, a, c.ID, c.Reason)
		case "cancel":
			err = wf.Cancel(ctx, a, c.ID, c.Reason)
		case "retry":
			err = wf.Retry(ctx, a, c.ID)
		case "approve-viewing":
			err = wf.ApproveViewing(ctx, a, c.ID, c.Reason)
		default:
			err = fmt.Errorf("export: no verb %q", verb)
		}
		if err != nil {
			return err
		}
		return printState(ctx, app, wf, c.ID, c.JSON, "Export %d (%s): "+verb+" recorded.\n")
	})
}

type exportShowCmd struct {
	daemon.ConfigFlag
	ID   int64 `arg:"" help:"Export id."`
	JSON bool  `help:"Print one JSON object."`
}

func (c *exportShowCmd) Run(ctx context.Context, app *daemon.App) error {
	return withWorkflow(ctx, app, c.Config, "", true, func(_ *config.Inner, wf *export.Workflow, _ export.Actor) error {
		e, err := wf.Show(ctx, c.ID)
		if err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, e)
		}
		fmt.Fprintf(app.Stdout, "%s  %s  camera %s, footage %d\n  %s: %s\n  for %s (%s, document %s) → %s, %d days, %s, masked %v\n",
			e.Code, e.State, e.CameraName, e.FootageID, e.ReasonCode, e.Detail, e.RequesterName, e.Agency, e.DocumentNo, e.Recipient,
			e.ViewingDays, e.Delivery, e.Masked)
		for _, s := range e.Stages {
			fmt.Fprintf(app.Stdout, "  %-9s  %-7s  %3.0f%%  attempts %d  %s\n", s.Stage, s.State, math.Floor(s.Progress*100), s.Attempts, s.Error)
		}
		if e.PackageSHA256 != "" {
			fmt.Fprintf(app.Stdout, "  package SHA-256 %s\n", e.PackageSHA256)
		}
		for _, h := range e.History {
			fmt.Fprintf(app.Stdout, "  %s  %-20s %s → %s  %s\n", h.At.Local().Format("2006-01-02 15:04:05"), h.Actor, h.From, h.To, h.Reason)
		}
		return nil
	})
}

type exportListCmd struct {
	daemon.ConfigFlag
	State string `help:"Only exports in this state."`
	Limit int    `default:"100" help:"How many, newest first."`
	JSON  bool   `help:"Print one JSON object."`
}

func (c *exportListCmd) Run(ctx context.Context, app *daemon.App) error {
	return withWorkflow(ctx, app, c.Config, "", true, func(_ *config.Inner, wf *export.Workflow, _ export.Actor) error {
		es, err := wf.List(ctx, c.State, max(c.Limit, 1))
		if err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, map[string]any{"exports": es})
		}
		for _, e := range es {
			fmt.Fprintf(app.Stdout, "%4d  %s  %-12s  %s  %-16s  %s → %s\n", e.ID, e.Code, e.State, e.RequestedAt.Local().Format("2006-01-02 15:04"),
				e.ReasonCode, e.Agency, e.Recipient)
		}
		return nil
	})
}
