package export_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sealgate/inner/export"
	"sealgate/inner/video/videotest"
)

// recording is a real 2 s clip whose container says when it started, as
// an NVR's export does.
func (fx *fixture) recording(t *testing.T, name string, start time.Time) *export.Footage {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	videotest.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
		"-metadata", "creation_time="+start.UTC().Format(time.RFC3339), out)
	f, err := fx.wf.ImportFile(context.Background(), operator, fx.cam.ID, out)
	if err != nil {
		t.Fatal(err)
	}
	if f.StartedAt == nil || !f.StartedAt.Equal(start) {
		t.Fatalf("recording %s started at %v, want %v", name, f.StartedAt, start)
	}
	return f
}

func TestRequestByCameraAndPeriod(t *testing.T) {
	ctx := context.Background()
	fx := newWorkflow(t)
	fx.cam = fx.camera(t)
	other := fx.recording(t, "other.mp4", time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	cam2, err := fx.wf.AddCamera(ctx, operator, export.Camera{Name: "역삼역 3번 출구", Location: "서울 강남구 역삼동 820"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.pool.Exec(ctx, `UPDATE footage SET camera_id = $1 WHERE id = $2`, cam2.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	first := fx.recording(t, "ch12-1000.mp4", t0)
	second := fx.recording(t, "ch12-1002.mp4", t0.Add(2*time.Second))

	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }
	local := func(d time.Duration) string { return t0.Add(d).In(time.Local).Format("2006-01-02T15:04:05") }

	r := request(first)
	r.FootageID, r.CameraID, r.From, r.To = 0, fx.cam.ID, at(500*time.Millisecond), at(1500*time.Millisecond)
	id, err := fx.wf.File(ctx, operator, r)
	if err != nil {
		t.Fatal(err)
	}
	e, err := fx.wf.Show(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if e.FootageID != first.ID || e.FromS != 0.5 || e.ToS == nil || *e.ToS != 1.5 {
		t.Fatalf("the period 10:00:00.5–10:00:01.5 made footage %d cut %v–%v, want %d cut 0.5–1.5", e.FootageID, e.FromS, e.ToS, first.ID)
	}

	// The browser's datetime-local, in the appliance's zone, to the second
	// recording's very end.
	f, err := fx.wf.FootageAt(ctx, fx.cam.ID, local(2*time.Second), local(4*time.Second))
	if err != nil || f.ID != second.ID {
		t.Fatalf("FootageAt(10:00:02, 10:00:04) = %v, %v; want footage %d", f, err, second.ID)
	}

	cases := []struct {
		name     string
		camera   int64
		from, to string
		field    string
		problem  string
	}{
		{"crosses two recordings", fx.cam.ID, at(time.Second), at(3 * time.Second), "to", "spans"},
		{"past the last recording", fx.cam.ID, at(3 * time.Second), at(5 * time.Second), "to", "beyond"},
		{"before the first", fx.cam.ID, at(-time.Second), at(time.Second), "from", "beyond"},
		{"nothing recorded then", fx.cam.ID, at(time.Hour), at(time.Hour + time.Second), "from", "no_footage"},
		{"unknown camera", 999999, at(0), at(time.Second), "camera", "unknown_camera"},
		{"no camera", 0, at(0), at(time.Second), "camera", "required"},
		{"an offset is not a time of day", fx.cam.ID, "90", at(time.Second), "from", "wall_clock"},
		{"ends before it starts", fx.cam.ID, at(time.Second), at(0), "to", "before_from"},
	}
	for _, c := range cases {
		_, err := fx.wf.FootageAt(ctx, c.camera, c.from, c.to)
		var fes export.FieldErrors
		if !errors.As(err, &fes) || fes.Field(c.field) == nil || fes.Field(c.field).Problem != c.problem {
			t.Errorf("%s: %v, want %s on %s", c.name, err, c.problem, c.field)
		}
	}
	_, err = fx.wf.FootageAt(ctx, fx.cam.ID, at(time.Second), at(3*time.Second))
	if msg := err.Error(); !strings.Contains(msg, first.FileName) || !strings.Contains(msg, second.FileName) || strings.Contains(msg, other.FileName) {
		t.Errorf("a period across recordings names %q; want both of this camera's recordings and not the other camera's", msg)
	}

	// Filing by camera reports the period's problem on its field too.
	r.From, r.To = at(time.Second), at(3*time.Second)
	_, err = fx.wf.File(ctx, operator, r)
	var fes export.FieldErrors
	if !errors.As(err, &fes) || fes.Field("to") == nil || fes.Field("to").Problem != "spans" {
		t.Fatalf("filing across recordings: %v, want spans on to", err)
	}
}
