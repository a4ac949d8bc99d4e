package innerd

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/inner/mask"
	"sealgate/inner/mask/plan"
	"sealgate/inner/review"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/i18n"
)

// ReviewRoles prepare and check the masking of footage before export: the
// operators who mask, the approvers who check before release.
var ReviewRoles = []string{"operator", "approver"}

// Review limits. Frames are shown at most displayWidth wide (scaled by a
// whole factor); live workers hold a decoder and a clip's index each.
const (
	ReviewUploadLimit = 4 << 30
	displayWidth      = 960
	maxWorkers        = 2
	workerIdle        = 5 * time.Minute
	analyseTimeout    = 3 * time.Hour
)

// Review states.
const (
	stateAnalysing = "analysing"
	stateReady     = "ready"
	stateFailed    = "failed"
)

//go:embed static/review.js
var reviewJS []byte

// reviewMeta is a review workspace's record (meta.json beside the clip).
type reviewMeta struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	SHA256     string    `json:"sha256"`
	Detect     []string  `json:"detect"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	State      string    `json:"state"`
	Error      string    `json:"error,omitempty"`
	Edited     bool      `json:"edited"` // the draft has changes not saved
	SavedBy    string    `json:"saved_by,omitempty"`
	SavedAt    time.Time `json:"saved_at,omitzero"`
	PlanSHA256 string    `json:"plan_sha256,omitempty"`
}

// reviews serves /reviews: workspaces under dir, one per clip, each with
// the clip (source), its analysis (auto.json), the reviewer's working copy
// (draft.json) and the saved plan (plan.json). The daemon never decodes
// the clip: analysis runs as a child `sealgate-inner mask`, frames and
// tracking come from a child `review-worker` per open clip.
type reviews struct {
	ctx   context.Context
	ui    *accountui.UI
	audit *audit.Log
	dir   string
	log   *slog.Logger
	slot  chan struct{} // one analysis at a time: it takes both cores

	mu       sync.Mutex
	progress map[string]int // analysis progress, percent
	drafts   map[string]*plan.Plan
	workers  map[string]*review.Worker
}

var reviewID = regexp.MustCompile(`^[0-9a-f]{16}$`)

func newReviews(ctx context.Context, ui *accountui.UI, log *audit.Log, dir string, logger *slog.Logger) (*reviews, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	r := &reviews{ctx: ctx, ui: ui, audit: log, dir: dir, log: logger, slot: make(chan struct{}, 1),
		progress: map[string]int{}, drafts: map[string]*plan.Plan{}, workers: map[string]*review.Worker{}}
	all, err := r.all()
	if err != nil {
		return nil, err
	}
	for _, m := range all { // a stopped daemon left these half done
		if m.State == stateAnalysing {
			go r.analyse(m.ID)
		}
	}
	go r.reap()
	return r, nil
}

func (r *reviews) routes() {
	r.ui.Handle(http.MethodGet, "/reviews", ReviewRoles, r.list)
	r.ui.HandleUpload(http.MethodPost, "/reviews", ReviewRoles, ReviewUploadLimit, r.create)
	r.ui.Handle(http.MethodGet, "/reviews/:id", ReviewRoles, r.page)
	r.ui.Handle(http.MethodGet, "/reviews/:id/data", ReviewRoles, r.data)
	r.ui.Handle(http.MethodGet, "/reviews/:id/boxes", ReviewRoles, r.boxes)
	r.ui.Handle(http.MethodGet, "/reviews/:id/frame", ReviewRoles, r.frame)
	r.ui.Handle(http.MethodPost, "/reviews/:id/tracks", ReviewRoles, r.addTrack)
	r.ui.Handle(http.MethodPost, "/reviews/:id/tracks/:track", ReviewRoles, r.editTrack)
	r.ui.Handle(http.MethodPost, "/reviews/:id/tracks/:track/box", ReviewRoles, r.setBox)
	r.ui.Handle(http.MethodPost, "/reviews/:id/save", ReviewRoles, r.save)
	r.ui.Handle(http.MethodPost, "/reviews/:id/delete", ReviewRoles, r.remove)
	r.ui.Handle(http.MethodGet, "/review.js", ReviewRoles, func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-cache")
		return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", reviewJS)
	})
}

// --- workspaces on disk ---

func (r *reviews) path(id, name string) string { return filepath.Join(r.dir, id, name) }

func (r *reviews) meta(id string) (*reviewMeta, error) {
	if !reviewID.MatchString(id) {
		return nil, echo.ErrNotFound
	}
	b, err := os.ReadFile(r.path(id, "meta.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, echo.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var m reviewMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("review %s: %w", id, err)
	}
	return &m, nil
}

func (r *reviews) putMeta(m *reviewMeta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(r.path(m.ID, "meta.json"), b)
}

// update changes a workspace's record under the lock.
func (r *reviews) update(id string, fn func(*reviewMeta)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, err := r.meta(id)
	if err != nil {
		return err
	}
	fn(m)
	return r.putMeta(m)
}

func (r *reviews) all() ([]*reviewMeta, error) {
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return nil, err
	}
	var out []*reviewMeta
	for _, e := range entries {
		if m, err := r.meta(e.Name()); err == nil {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b *reviewMeta) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// writeFileAtomic writes a private file whole or not at all.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// --- pages ---

type reviewsView struct {
	LimitMB int64
	Reviews []*reviewMeta
}

func (r *reviews) list(c echo.Context) error {
	all, err := r.all()
	if err != nil {
		return err
	}
	return r.ui.Render(c, http.StatusOK, "reviews", "review.title", reviewsView{LimitMB: ReviewUploadLimit >> 20, Reviews: all}, "", "")
}

func (r *reviews) create(c echo.Context) error {
	all, _ := r.all()
	view := reviewsView{LimitMB: ReviewUploadLimit >> 20, Reviews: all}
	fail := func(status int, key string) error {
		return r.ui.Render(c, status, "reviews", "review.title", view, "", i18n.T(i18n.Pick(c.Request()), key))
	}
	fh, err := c.FormFile("clip")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fail(http.StatusRequestEntityTooLarge, "error.too_large")
		}
		return fail(http.StatusBadRequest, "review.no_file")
	}
	detect := slices.Clone(mask.DefaultDetect)
	if c.FormValue("people") != "" {
		detect = append(detect, mask.DetectPeople)
	}
	idb := make([]byte, 8)
	rand.Read(idb)
	id := hex.EncodeToString(idb)
	if err := os.Mkdir(filepath.Join(r.dir, id), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(r.path(id, "source"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	sum, err := saveUpload(fh, f)
	if err != nil {
		os.RemoveAll(filepath.Join(r.dir, id))
		return fmt.Errorf("saving the upload: %w", err)
	}
	s := accountui.Session(c)
	m := &reviewMeta{ID: id, Name: filepath.Base(fh.Filename), SHA256: sum, Detect: detect, CreatedBy: s.User.Username,
		CreatedAt: time.Now().UTC(), State: stateAnalysing}
	if err := r.putMeta(m); err != nil {
		os.RemoveAll(filepath.Join(r.dir, id))
		return err
	}
	if err := r.audit.Append(c.Request().Context(), audit.Entry{Actor: s.User.Username, Action: "mask.review.create",
		Target: "review:" + id, Outcome: audit.OK, Remote: c.RealIP(), Detail: fmt.Sprintf("%s sha256:%s", m.Name, sum)}); err != nil {
		os.RemoveAll(filepath.Join(r.dir, id))
		return err
	}
	go r.analyse(id)
	return c.Redirect(http.StatusSeeOther, "/reviews/"+id)
}

type reviewView struct {
	*reviewMeta
	Progress int
	Labels   map[string]string // the editor script's words, in the page's language
}

// editorLabels are the i18n keys the editor script shows.
var editorLabels = []string{"review.frame", "review.kind.face", "review.kind.person", "review.kind.plate", "review.kind.manual",
	"review.status.masked", "review.status.subject", "review.status.not_sensitive",
	"review.act.subject", "review.act.not_sensitive", "review.act.mask", "review.act.delete", "review.act.go",
	"review.msg.saved", "review.msg.edited", "review.msg.tracking", "review.msg.draw_first", "review.msg.selected"}

func (r *reviews) page(c echo.Context) error {
	m, err := r.meta(c.Param("id"))
	if err != nil {
		return err
	}
	r.mu.Lock()
	p := r.progress[m.ID]
	r.mu.Unlock()
	lang := i18n.Pick(c.Request())
	labels := map[string]string{}
	for _, k := range editorLabels {
		labels[strings.TrimPrefix(k, "review.")] = i18n.T(lang, k)
	}
	return r.ui.Render(c, http.StatusOK, "review", "review.title", reviewView{reviewMeta: m, Progress: p, Labels: labels}, "", "")
}

// --- analysis ---

// analyse runs the detectors over the clip in a child `sealgate-inner mask`
// (analysis only) and makes its plan the first draft.
func (r *reviews) analyse(id string) {
	select {
	case r.slot <- struct{}{}:
		defer func() { <-r.slot }()
	case <-r.ctx.Done():
		return
	}
	m, err := r.meta(id)
	if err != nil {
		r.log.Error("analysis", "review", id, "error", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, analyseTimeout)
	defer cancel()
	err = r.runAnalysis(ctx, m)
	if r.ctx.Err() != nil {
		return // the daemon is stopping: analyse again at the next start
	}
	r.mu.Lock()
	delete(r.progress, id)
	r.mu.Unlock()
	if err == nil {
		err = copyFile(r.path(id, "auto.json"), r.path(id, "draft.json"))
	}
	uerr := r.update(id, func(m *reviewMeta) {
		if err != nil {
			m.State, m.Error = stateFailed, err.Error()
		} else {
			m.State = stateReady
		}
	})
	if err != nil || uerr != nil {
		r.log.Warn("analysis failed", "review", id, "error", err, "record", uerr)
	}
}

func (r *reviews) runAnalysis(ctx context.Context, m *reviewMeta) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	auto := r.path(m.ID, "auto.json")
	os.Remove(auto)
	cmd := exec.CommandContext(ctx, exe, "mask", "--in", r.path(m.ID, "source"), "--plan-out", auto,
		"--detect", strings.Join(m.Detect, ","), "--progress", "--json")
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	var last string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var p struct{ Frame, Frames int }
		if json.Unmarshal(sc.Bytes(), &p) == nil && p.Frames > 0 {
			r.mu.Lock()
			r.progress[m.ID] = 100 * p.Frame / p.Frames
			r.mu.Unlock()
		} else if line := strings.TrimSpace(sc.Text()); line != "" {
			last = line
		}
	}
	if err := cmd.Wait(); err != nil {
		if len(last) > 400 {
			last = last[:400]
		}
		return fmt.Errorf("%s (%w)", strings.TrimPrefix(last, "sealgate-inner: "), err)
	}
	return nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return writeFileAtomic(to, b)
}

// --- the editor's API ---

// ready loads a workspace whose analysis is done.
func (r *reviews) ready(c echo.Context) (*reviewMeta, error) {
	m, err := r.meta(c.Param("id"))
	if err != nil {
		return nil, err
	}
	if m.State != stateReady {
		return nil, echo.NewHTTPError(http.StatusConflict, "the clip is not analysed")
	}
	return m, nil
}

// draft is the working copy of the plan; the caller holds mu.
func (r *reviews) draft(id string) (*plan.Plan, error) {
	if p := r.drafts[id]; p != nil {
		return p, nil
	}
	f, err := os.Open(r.path(id, "draft.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := plan.Parse(f)
	if err != nil {
		return nil, err
	}
	r.drafts[id] = p
	return p, nil
}

// putDraft stores an edited draft; the caller holds mu.
func (r *reviews) putDraft(id string, p *plan.Plan) error {
	if err := p.Validate(); err != nil {
		return err
	}
	b, err := p.Encode()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(r.path(id, "draft.json"), b); err != nil {
		delete(r.drafts, id)
		return err
	}
	r.drafts[id] = p
	m, err := r.meta(id)
	if err != nil {
		return err
	}
	m.Edited = true
	return r.putMeta(m)
}

type trackJSON struct {
	ID       int    `json:"id"`
	Kind     string `json:"kind"`
	Source   string `json:"source"`
	Excluded bool   `json:"excluded"`
	Reason   string `json:"reason,omitempty"`
	First    int    `json:"first"`
	Last     int    `json:"last"`
	Boxes    int    `json:"boxes"`
}

func summary(t plan.Track) trackJSON {
	tj := trackJSON{ID: t.ID, Kind: t.Kind, Source: t.Source, Excluded: t.Excluded, Reason: t.Reason, Boxes: len(t.Boxes)}
	if len(t.Boxes) > 0 {
		tj.First, tj.Last = t.Boxes[0].F, t.Boxes[len(t.Boxes)-1].F
	}
	return tj
}

func (r *reviews) data(c echo.Context) error {
	m, err := r.ready(c)
	if err != nil {
		return err
	}
	w, err := r.worker(c.Request().Context(), m.ID)
	if err != nil {
		return err
	}
	r.mu.Lock()
	p, err := r.draft(m.ID)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	tracks := []trackJSON{}
	for _, t := range p.Tracks {
		tracks = append(tracks, summary(t))
	}
	return c.JSON(http.StatusOK, map[string]any{"clip": w.Clip, "style": p.Style, "margin": p.Margin,
		"tracks": tracks, "edited": m.Edited, "saved_at": m.SavedAt, "saved_by": m.SavedBy, "plan_sha256": m.PlanSHA256})
}

type boxJSON struct {
	Track int `json:"t"`
	plan.Box
}

// boxes lists the draft's boxes on frames [from, to), at most 900 frames.
func (r *reviews) boxes(c echo.Context) error {
	m, err := r.ready(c)
	if err != nil {
		return err
	}
	from, err1 := strconv.Atoi(c.QueryParam("from"))
	to, err2 := strconv.Atoi(c.QueryParam("to"))
	if err1 != nil || err2 != nil || from < 0 || to < from || to-from > 900 {
		return echo.NewHTTPError(http.StatusBadRequest, "from and to: a range of at most 900 frames")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.draft(m.ID)
	if err != nil {
		return err
	}
	out := []boxJSON{}
	for _, t := range p.Tracks {
		i, _ := slices.BinarySearchFunc(t.Boxes, from, func(b plan.Box, f int) int { return b.F - f })
		for ; i < len(t.Boxes) && t.Boxes[i].F < to; i++ {
			out = append(out, boxJSON{t.ID, t.Boxes[i]})
		}
	}
	return c.JSON(http.StatusOK, out)
}

// frame is one frame as JPEG; masked=1 masks it with the draft as the
// export will (the same renderer, at full resolution, then scaled).
func (r *reviews) frame(c echo.Context) error {
	m, err := r.ready(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.QueryParam("n"))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "n: the frame number")
	}
	var spec *review.MaskSpec
	if c.QueryParam("masked") == "1" {
		r.mu.Lock()
		p, err := r.draft(m.ID)
		if err == nil {
			spec = &review.MaskSpec{Style: p.Style, Margin: p.Margin, Boxes: masked(p, n)}
		}
		r.mu.Unlock()
		if err != nil {
			return err
		}
	}
	w, err := r.worker(c.Request().Context(), m.ID)
	if err != nil {
		return err
	}
	img, err := w.Frame(c.Request().Context(), n, displayWidth, spec)
	if err != nil {
		return workerError(err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "image/jpeg", img)
}

// masked is the boxes to mask on frame f: every track not excluded.
func masked(p *plan.Plan, f int) []plan.Box {
	var out []plan.Box
	for _, t := range p.Tracks {
		if t.Excluded {
			continue
		}
		if i, ok := slices.BinarySearchFunc(t.Boxes, f, func(b plan.Box, f int) int { return b.F - f }); ok {
			out = append(out, t.Boxes[i])
		}
	}
	return out
}

// readJSON decodes a small request body strictly.
func readJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad request body: "+err.Error())
	}
	return nil
}

// boxRequest is a box the reviewer drew or corrected on Frame, and how many
// seconds to track it.
type boxRequest struct {
	Frame, X, Y, W, H int
	Seconds           float64
}

func (b boxRequest) box() plan.Box {
	return plan.Box{F: b.Frame, X: b.X, Y: b.Y, W: b.W, H: b.H, By: plan.ByManual}
}

// track has the clip's worker carry req's box up to 30 s in direction dir.
func (r *reviews) track(c echo.Context, id string, req boxRequest, dir review.Direction) ([]plan.Box, error) {
	w, err := r.worker(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	span := int(min(max(req.Seconds, 0), 30) * max(w.Clip.FrameRate, 1))
	boxes, err := w.Track(c.Request().Context(), req.Frame, req.box(), span, dir)
	if err != nil {
		return nil, workerError(err)
	}
	return boxes, nil
}

// addTrack tracks a box the reviewer drew and adds it as a manual track.
func (r *reviews) addTrack(c echo.Context) error {
	m, err := r.ready(c)
	if err != nil {
		return err
	}
	var req boxRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	boxes, err := r.track(c, m.ID, req, review.BothWays)
	if err != nil {
		return err
	}
	var t plan.Track
	err = r.edit(m.ID, func(p *plan.Plan) error {
		t = plan.Track{ID: p.NextID(), Kind: plan.KindManual, Source: plan.SourceManual, Boxes: boxes}
		p.Tracks = append(p.Tracks, t)
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, summary(t))
}

// workerError maps the worker's refusal of a request to 400.
func workerError(err error) error {
	var re *review.RequestError
	if errors.As(err, &re) {
		return echo.NewHTTPError(http.StatusBadRequest, re.Msg)
	}
	return err
}

// edit changes the draft with fn (on a copy of its track list, so a failed
// edit leaves the draft as it was) and stores it.
func (r *reviews) edit(id string, fn func(*plan.Plan) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.draft(id)
	if err != nil {
		return err
	}
	next := *p
	next.Tracks = slices.Clone(p.Tracks) // boxes are shared: edits never change them
	if err := fn(&next); err != nil {
		return err
	}
	return r.putDraft(id, &next)
}

// Edits of a track.
const (
	editSubject      = "subject"       // leave unmasked: the data subject
	editNotSensitive = "not_sensitive" // leave unmasked: a false detection
	editMask         = "mask"          // mask again
	editDelete       = "delete"        // remove a manual track
	editCutBefore    = "cut_before"    // a manual track starts at Frame
	editCutAfter     = "cut_after"     // a manual track ends at Frame
)

func (r *reviews) editTrack(c echo.Context) error {
	m, id, err := r.readyTrack(c)
	if err != nil {
		return err
	}
	var req struct {
		Action string
		Frame  int
	}
	if err := readJSON(c, &req); err != nil {
		return err
	}
	err = r.editOne(m.ID, id, func(p *plan.Plan, i int) error {
		t := &p.Tracks[i]
		switch req.Action {
		case editSubject, editNotSensitive:
			t.Excluded, t.Reason = true, req.Action
		case editMask:
			t.Excluded, t.Reason = false, ""
		case editDelete:
			if err := manualOnly(t); err != nil {
				return err
			}
			p.Tracks = slices.Delete(p.Tracks, i, i+1)
		case editCutBefore, editCutAfter:
			if err := manualOnly(t); err != nil {
				return err
			}
			keep := func(b plan.Box) bool { return b.F >= req.Frame }
			if req.Action == editCutAfter {
				keep = func(b plan.Box) bool { return b.F <= req.Frame }
			}
			var boxes []plan.Box
			for _, b := range t.Boxes {
				if keep(b) {
					boxes = append(boxes, b)
				}
			}
			if len(boxes) == 0 {
				return echo.NewHTTPError(http.StatusBadRequest, "nothing of the track would be left: delete it instead")
			}
			t.Boxes = boxes
		default:
			return echo.NewHTTPError(http.StatusBadRequest, "action: subject, not_sensitive, mask, delete, cut_before or cut_after")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// setBox corrects a manual track's box on one frame (moved or resized by the
// reviewer) and, if Seconds is set, tracks the corrected box forwards again,
// replacing the rest of the track: how a track that drifted is put right.
func (r *reviews) setBox(c echo.Context) error {
	m, id, err := r.readyTrack(c)
	if err != nil {
		return err
	}
	var req boxRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	box := req.box()
	// Check the box and the track before the (slow) re-tracking; the edit
	// checks the track again.
	r.mu.Lock()
	p, err := r.draft(m.ID)
	if err == nil {
		err = checkBox(p, id, box)
	}
	r.mu.Unlock()
	if err != nil {
		return err
	}
	tail := []plan.Box{box}
	if req.Seconds > 0 {
		if tail, err = r.track(c, m.ID, req, review.Forwards); err != nil {
			return err
		}
	}
	var t plan.Track
	err = r.editOne(m.ID, id, func(p *plan.Plan, i int) error {
		tr := &p.Tracks[i]
		if err := manualOnly(tr); err != nil {
			return err
		}
		var boxes []plan.Box
		for _, b := range tr.Boxes {
			if b.F < req.Frame || (req.Seconds <= 0 && b.F > req.Frame) {
				boxes = append(boxes, b)
			}
		}
		boxes = append(boxes, tail...)
		slices.SortFunc(boxes, func(a, b plan.Box) int { return a.F - b.F })
		tr.Boxes = boxes
		t = *tr
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, summary(t))
}

// readyTrack is the analysed review and the track id a request names.
func (r *reviews) readyTrack(c echo.Context) (*reviewMeta, int, error) {
	m, err := r.ready(c)
	if err != nil {
		return nil, 0, err
	}
	id, err := strconv.Atoi(c.Param("track"))
	if err != nil {
		return nil, 0, echo.ErrNotFound
	}
	return m, id, nil
}

// trackIndex is the index of track id in p.
func trackIndex(p *plan.Plan, id int) (int, error) {
	i := slices.IndexFunc(p.Tracks, func(t plan.Track) bool { return t.ID == id })
	if i < 0 {
		return 0, echo.ErrNotFound
	}
	return i, nil
}

// checkBox refuses a box outside p's frames or a track that is not manual.
func checkBox(p *plan.Plan, id int, b plan.Box) error {
	if b.F < 0 || b.F >= p.Frames || b.W < 8 || b.H < 8 || b.X < 0 || b.Y < 0 || b.X+b.W > p.Width || b.Y+b.H > p.Height {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("the box %d,%d %d×%d on frame %d must be at least 8×8 and inside the %d×%d frame of %d frames", b.X, b.Y, b.W, b.H, b.F, p.Width, p.Height, p.Frames))
	}
	i, err := trackIndex(p, id)
	if err != nil {
		return err
	}
	return manualOnly(&p.Tracks[i])
}

// editOne edits track id of the draft; fn gets its index.
func (r *reviews) editOne(review string, id int, fn func(p *plan.Plan, i int) error) error {
	return r.edit(review, func(p *plan.Plan) error {
		i, err := trackIndex(p, id)
		if err != nil {
			return err
		}
		return fn(p, i)
	})
}

// manualOnly refuses to edit the boxes of a detection: the export's render
// detects again and keeps only the plan's exclusions of detections.
func manualOnly(t *plan.Track) error {
	if t.Source != plan.SourceManual {
		return echo.NewHTTPError(http.StatusBadRequest, "a detection's boxes are not edited: leave it unmasked as a false detection, or draw a box")
	}
	return nil
}

// save makes the draft the clip's mask plan, on record.
func (r *reviews) save(c echo.Context) error {
	m, err := r.ready(c)
	if err != nil {
		return err
	}
	s := accountui.Session(c)
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.draft(m.ID)
	if err != nil {
		return err
	}
	b, err := p.Encode()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	manual, subjects, notSensitive := 0, 0, 0
	for _, t := range p.Tracks {
		switch {
		case t.Source == plan.SourceManual:
			manual++
		case t.Reason == plan.ReasonSubject:
			subjects++
		case t.Reason == plan.ReasonNotSensitive:
			notSensitive++
		}
	}
	if err := r.audit.Append(c.Request().Context(), audit.Entry{Actor: s.User.Username, Action: "mask.plan.save", Target: "review:" + m.ID,
		Outcome: audit.OK, Remote: c.RealIP(), Detail: fmt.Sprintf("plan sha256:%x, %d tracks: %d manual, %d subjects and %d false detections left unmasked",
			sum, len(p.Tracks), manual, subjects, notSensitive)}); err != nil {
		return err // a plan that is not on record is not saved
	}
	if err := writeFileAtomic(r.path(m.ID, "plan.json"), b); err != nil {
		return err
	}
	m.Edited, m.SavedBy, m.SavedAt, m.PlanSHA256 = false, s.User.Username, time.Now().UTC(), hex.EncodeToString(sum[:])
	if err := r.putMeta(m); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"plan_sha256": m.PlanSHA256})
}

// remove deletes a workspace and its copy of the footage.
func (r *reviews) remove(c echo.Context) error {
	m, err := r.meta(c.Param("id"))
	if err != nil {
		return err
	}
	if m.State == stateAnalysing {
		return echo.NewHTTPError(http.StatusConflict, "the clip is being analysed")
	}
	r.mu.Lock()
	if w := r.workers[m.ID]; w != nil {
		w.Close()
		delete(r.workers, m.ID)
	}
	delete(r.drafts, m.ID)
	err = os.RemoveAll(filepath.Join(r.dir, m.ID))
	r.mu.Unlock()
	if err != nil {
		return err
	}
	s := accountui.Session(c)
	if err := r.audit.Append(c.Request().Context(), audit.Entry{Actor: s.User.Username, Action: "mask.review.delete", Target: "review:" + m.ID,
		Outcome: audit.OK, Remote: c.RealIP(), Detail: m.Name + " sha256:" + m.SHA256}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/reviews")
}

// --- workers ---

// worker is the live review worker for a clip, started if need be; at
// most maxWorkers live, the least recently used is stopped for a new one.
func (r *reviews) worker(ctx context.Context, id string) (*review.Worker, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w := r.workers[id]; w != nil && w.Alive() {
		return w, nil
	}
	delete(r.workers, id)
	for len(r.workers) >= maxWorkers {
		oldest := ""
		for k, w := range r.workers {
			if oldest == "" || w.IdleSince().Before(r.workers[oldest].IdleSince()) {
				oldest = k
			}
		}
		r.workers[oldest].Close()
		delete(r.workers, oldest)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(r.ctx, exe, "review-worker", "--in", r.path(id, "source"))
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	w, err := review.Start(ctx, cmd)
	if err != nil {
		return nil, err
	}
	r.workers[id] = w
	return w, nil
}

// reap stops workers nobody has asked anything for a while.
func (r *reviews) reap() {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-r.ctx.Done():
			r.mu.Lock()
			for _, w := range r.workers {
				w.Close()
			}
			r.mu.Unlock()
			return
		case <-tick.C:
			r.mu.Lock()
			for id, w := range r.workers {
				if !w.Alive() || time.Since(w.IdleSince()) > workerIdle {
					w.Close()
					delete(r.workers, id)
				}
			}
			r.mu.Unlock()
		}
	}
}
