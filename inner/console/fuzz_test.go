package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/labstack/echo/v4"

	"sealgate/inner/mask/plan"
	"sealgate/inner/review"
)

// editorPlan is a draft as the editor edits it: an automatic track, a drawn
// one (id 2) and an excluded one.
func editorPlan() *plan.Plan {
	span := func(from, to int, by string) []plan.Box {
		var bs []plan.Box
		for f := from; f < to; f++ {
			bs = append(bs, plan.Box{F: f, X: 100 + f, Y: 50, W: 40, H: 40, By: by})
		}
		return bs
	}
	drawn := span(10, 20, plan.ByTracker)
	drawn[5].By = plan.ByManual
	return &plan.Plan{Version: plan.Version, Width: 1280, Height: 720, Frames: 100, Style: plan.StyleMosaic, Margin: 0.15,
		Tracks: []plan.Track{
			{ID: 1, Kind: plan.KindFace, Source: plan.SourceAuto, Boxes: span(0, 10, plan.ByDetector)},
			{ID: 2, Kind: plan.KindManual, Source: plan.SourceManual, Boxes: drawn},
			{ID: 4, Kind: plan.KindPlate, Source: plan.SourceAuto, Excluded: true, Reason: plan.ReasonSubject, Boxes: span(5, 15, plan.ByDetector)},
		}}
}

// decodeBody runs readJSON on body as a handler would. A refusal must be
// a 400; what it accepts, encoded again, decodes to the same value.
func decodeBody[T any](t *testing.T, body []byte) (T, bool) {
	var v T
	e := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)), httptest.NewRecorder())
	if err := readJSON(e, &v); err != nil {
		wantStatus(t, err, http.StatusBadRequest)
		return v, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var again T
	e = echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(b)), httptest.NewRecorder())
	if err := readJSON(e, &again); err != nil || !reflect.DeepEqual(again, v) {
		t.Fatalf("body %q, encoded again as %s, reads as %+v (%v)", body, b, again, err)
	}
	return v, true
}

// wantStatus: err answers with one of the statuses, never a server error.
func wantStatus(t *testing.T, err error, codes ...int) {
	var he *echo.HTTPError
	if !errors.As(err, &he) {
		t.Fatalf("error %v would answer 500", err)
	}
	for _, c := range codes {
		if he.Code == c {
			return
		}
	}
	t.Fatalf("error %v answers %d, want one of %v", err, he.Code, codes)
}

// FuzzTrackEditBody fuzzes the body of POST /reviews/:id/tracks/:track
// (and the track id), seeded with what the editor sends: the action is
// decoded, chosen and run on a draft. A refusal is the reviewer's to
// correct (400, or 404 for a track that is not there) and leaves the
// draft as it was; an edit that is made leaves a valid plan.
func FuzzTrackEditBody(f *testing.F) {
	for _, body := range []string{
		`{"action":"subject"}`, `{"action":"not_sensitive"}`, `{"action":"mask"}`, `{"action":"delete"}`,
		`{"action":"cut_before","frame":14}`, `{"action":"cut_after","frame":12}`,
		`{"action":"cut_after","frame":-1}`, `{"action":"drop"}`, `{"action":"mask"} {"action":"delete"}`, `{"action":"mask","x":1}`,
	} {
		for _, id := range []int{1, 2, 4, 9} {
			f.Add([]byte(body), id)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, id int) {
		req, ok := decodeBody[trackEditRequest](t, body)
		if !ok {
			return
		}
		edit, err := req.edit(id)
		if err != nil {
			wantStatus(t, err, http.StatusBadRequest)
			return
		}
		p := editorPlan()
		if err := edit(p); err != nil {
			wantStatus(t, httpError(err), http.StatusBadRequest, http.StatusNotFound)
			if !reflect.DeepEqual(p, editorPlan()) {
				t.Fatalf("refused edit %+v changed the draft", req)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("edit %+v of track %d left an invalid plan: %v", req, id, err)
		}
	})
}

// FuzzBoxBody fuzzes the body of POST /reviews/:id/tracks and
// /tracks/:track/box (with the track id and the worker's frame rate),
// seeded with what the editor sends. The span asked of the worker is
// within 0..review.MaxSpan whatever the numbers; a box CheckBox passes
// (the check made before the slow tracking) lies inside the frame, and
// setting it then succeeds and leaves a valid plan; a refusal is a 400 or
// a 404.
func FuzzBoxBody(f *testing.F) {
	for _, body := range []string{
		`{"frame":15,"x":200,"y":100,"w":64,"h":48,"seconds":0}`,
		`{"frame":15,"x":200,"y":100,"w":64,"h":48,"seconds":4}`,
		`{"frame":15,"x":1240,"y":680,"w":40,"h":40,"seconds":30}`,
		`{"frame":15,"x":1241,"y":0,"w":40,"h":40,"seconds":1e300}`,
		`{"frame":99,"x":0,"y":0,"w":9223372036854775807,"h":8,"seconds":-5}`,
		`{"frame":100,"x":0,"y":0,"w":8,"h":8}`,
	} {
		f.Add([]byte(body), 2, 25.0)
		f.Add([]byte(body), 1, 1e308)
	}
	f.Fuzz(func(t *testing.T, body []byte, id int, fps float64) {
		req, ok := decodeBody[boxRequest](t, body)
		if !ok {
			return
		}
		if span := trackSpan(req.Seconds, fps); span < 0 || span > review.MaxSpan {
			t.Fatalf("%v s at %v fps is a span of %d", req.Seconds, fps, span)
		}
		p, b := editorPlan(), req.box()
		if err := p.CheckBox(id, b); err != nil {
			wantStatus(t, httpError(err), http.StatusBadRequest, http.StatusNotFound)
			return
		}
		if b.F < 0 || b.F >= p.Frames || b.X < 0 || b.Y < 0 || b.W < plan.MinDrawn || b.H < plan.MinDrawn || b.W > p.Width || b.H > p.Height || b.X+b.W > p.Width || b.Y+b.H > p.Height {
			t.Fatalf("CheckBox passed %+v", b)
		}
		if _, err := p.SetBox(id, b); err != nil {
			t.Fatalf("SetBox refused %+v that CheckBox passed: %v", b, err)
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("box %+v left an invalid plan: %v", b, err)
		}
	})
}
