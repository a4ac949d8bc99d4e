package pipeline_test

import (
	"context"
	"crypto/hpke"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sealgate/inner/export"
	"sealgate/inner/mask"
	"sealgate/inner/video/videotest"
	"sealgate/inner/watermark"
	"sealgate/shared/keys"
	"sealgate/shared/seal"
)

// BenchmarkPipeline reports the wall time of a 60-second 1080p export run
// through the pipeline's jobs (approval to the outbox) beside the same
// work done by hand on the same clip in the same run: mask with the
// watermark (the pipeline's detectors), the leak check, then seal (the
// approver's release is immediate: the wait counts, the person does not). Their ratio is the job
// machinery's overhead (goal ≤ 1.05): River, the stage records and
// heartbeats, the original's hash checks, the outbox's verified copy.
func BenchmarkPipeline(b *testing.B) {
	src := filepath.Join(b.TempDir(), "clip.mp4")
	videotest.FFmpeg(b, "-stream_loop", "7", "-i", videotest.Asset(b, "movie-hello.mp4"), "-t", "60", "-vf", "scale=-2:1080",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-an", src)
	s := newSite(b)
	lic, err := keys.ReadLicensePub(s.license)
	if err != nil {
		b.Fatal(err)
	}
	s.node(b, "bench", &logs{done: map[string][]string{}}, nil)
	detect := []string{mask.DetectSmallFaces, mask.DetectPeople, mask.DetectPlates}
	var byHand, jobs time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		out := filepath.Join(b.TempDir(), "marked.mp4")
		wm := &mask.Watermark{Key: s.issuer.Key, Payload: watermark.ExportPayload(9, uint64(1000+i))}
		res, err := mask.Mask(context.Background(), src, out, mask.Options{Detect: detect, ModelsDir: videotest.Dir(b), Watermark: wm})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mask.LeakCheck(context.Background(), out, res.Plan, videotest.Dir(b)); err != nil {
			b.Fatal(err)
		}
		if _, err := seal.SealFile(out, filepath.Join(b.TempDir(), "p.sgpkg"), seal.Manifest{ExportCode: "BENCH-" + strconv.Itoa(i)},
			seal.Options{Signer: s.inner.Signing, Recipients: []hpke.PublicKey{lic}}); err != nil {
			b.Fatal(err)
		}
		byHand += time.Since(start)

		// Ingest is its own step, before a request exists: not timed.
		cams, _ := s.wf.Cameras(context.Background(), false)
		if len(cams) == 0 {
			c, err := s.wf.AddCamera(context.Background(), operator, export.Camera{Name: "CAM-12", Location: "역삼역 4번 출구"})
			if err != nil {
				b.Fatal(err)
			}
			cams = append(cams, c)
		}
		f, err := s.wf.ImportFile(context.Background(), operator, cams[0].ID, src)
		if err != nil {
			b.Fatal(err)
		}
		r := request()
		r.FootageID = f.ID
		id, err := s.wf.File(context.Background(), operator, r)
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if err := s.wf.Approve(context.Background(), approver, id, ""); err != nil {
			b.Fatal(err)
		}
		s.wait(b, id, 15*time.Minute, export.Queued, "transferring")
		jobs += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(byHand.Seconds()/n, "s/by-hand")
	b.ReportMetric(jobs.Seconds()/n, "s/pipeline")
	b.ReportMetric(jobs.Seconds()/byHand.Seconds(), "pipeline/by-hand")
}
