package nvrimport_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sealgate/inner/child"
	"sealgate/inner/export"
	"sealgate/inner/nvrimport"
	"sealgate/inner/requester/requestertest"
	"sealgate/inner/store"
	"sealgate/inner/video/videotest"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
)

// TestMain also lets the test binary act as sealgate-inner's probe child,
// which ingest starts (inner/child).
func TestMain(m *testing.M) {
	if os.Getenv(child.Env) != "" {
		child.MustEnter()
		if len(os.Args) != 4 || os.Args[1] != export.ProbeCommand {
			fmt.Fprintln(os.Stderr, "sealgate-inner: not a child of these tests:", os.Args[1:])
			os.Exit(2)
		}
		if err := export.ProbeChild(context.Background(), os.Args[3], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "sealgate-inner:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}

// The folder an NVR exports to: a clip in a camera's folder is ingested
// once it has stopped changing and leaves the folder; a file that is not
// video, and one for no camera, move to .rejected/ with a note; a file
// still being written, and the NVR's hidden files, are left alone.
func TestImportFolder(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t, store.Migrations())
	key := make([]byte, 32)
	rand.Read(key)
	log := audit.New(pool, key)
	wf, err := export.New(pool, log, export.WorkflowConfig{FootageDir: filepath.Join(t.TempDir(), "footage"), Retention: 30 * 24 * time.Hour, PII: requestertest.PII(t)})
	if err != nil {
		t.Fatal(err)
	}
	operator := export.Actor{User: "operator.kim", Role: "operator", Via: "console"}
	byVMS, err := wf.AddCamera(ctx, operator, export.Camera{Name: "역삼역 4번 출구", Location: "서울 강남구 역삼동 823", VMSID: "NVR2-CH12"})
	if err != nil {
		t.Fatal(err)
	}
	byName, err := wf.AddCamera(ctx, operator, export.Camera{Name: "CAM-7", Location: "서울 강남구 테헤란로 1"})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	put := func(name string, body []byte) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	src := filepath.Join(t.TempDir(), "src.mp4")
	videotest.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=320x240:r=10:d=2", "-c:v", "libx264", "-pix_fmt", "yuv420p", src)
	clip, _ := os.ReadFile(src)
	sum := sha256.Sum256(clip)
	put("NVR2-CH12/20261201-0900.mp4", clip)
	put("cam-7/20261201-0930.mp4", clip)
	put("NVR2-CH12/notes.mp4", []byte("this is not a video"))
	put("NVR9-CH01/elsewhere.mp4", clip)
	put("NVR2-CH12/.20261201-1000.mp4.part", clip[:len(clip)/2])

	im := nvrimport.New(wf, dir, slog.New(slog.DiscardHandler))
	later := time.Now().Add(time.Minute)
	// The first sweep only notes what is there: a file is taken once it
	// has been seen unchanged.
	if res, err := im.Sweep(ctx, later); err != nil || len(res.Imported)+len(res.Rejected) != 0 {
		t.Fatalf("first sweep: %+v, %v", res, err)
	}
	growing := put("NVR2-CH12/20261201-1100.mp4", clip[:len(clip)/3])
	res, err := im.Sweep(ctx, later)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 2 || len(res.Rejected) != 2 {
		t.Fatalf("second sweep: imported %d, rejected %v", len(res.Imported), res.Rejected)
	}
	cams := map[int64]bool{}
	for _, f := range res.Imported {
		cams[f.CameraID] = true
		if f.SHA256 != hex.EncodeToString(sum[:]) || f.ImportedBy != "import" {
			t.Errorf("imported %+v", f)
		}
	}
	if !cams[byVMS.ID] || !cams[byName.ID] {
		t.Errorf("imported for cameras %v, want %d (by VMS id) and %d (by name)", cams, byVMS.ID, byName.ID)
	}
	for _, gone := range []string{"NVR2-CH12/20261201-0900.mp4", "cam-7/20261201-0930.mp4", "NVR2-CH12/notes.mp4", "NVR9-CH01/elsewhere.mp4"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
			t.Errorf("%s is still in the folder", gone)
		}
	}
	for name, why := range map[string]string{"NVR2-CH12/notes.mp4": "not a video", "NVR9-CH01/elsewhere.mp4": `no camera in service has the VMS id or name "NVR9-CH01"`} {
		note, err := os.ReadFile(filepath.Join(dir, nvrimport.Rejected, name+".error.txt"))
		if err != nil || !strings.Contains(string(note), why) {
			t.Errorf("%s: note %q (%v), want %q", name, note, err, why)
		}
		if _, err := os.Stat(filepath.Join(dir, nvrimport.Rejected, name)); err != nil {
			t.Errorf("%s was not kept aside: %v", name, err)
		}
	}
	for _, kept := range []string{growing, filepath.Join(dir, "NVR2-CH12/.20261201-1000.mp4.part")} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("%s was taken: %v", kept, err)
		}
	}
	// The file that was still growing is taken once it stops.
	os.WriteFile(growing, clip, 0o600)
	im.Sweep(ctx, later)
	if res, err := im.Sweep(ctx, later); err != nil || len(res.Imported) != 1 {
		t.Errorf("the finished file: %+v, %v", res, err)
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'footage.import' AND actor = 'import'`).Scan(&n)
	if n != 3 {
		t.Errorf("%d imports on record as import, want 3", n)
	}
	if _, err := log.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}
