package video_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sealgate/inner/video"
	"sealgate/inner/video/videotest"
)

// copyClip decodes and re-encodes every frame unchanged.
func copyClip(t *testing.T, in, out string) (*video.Info, *video.Info) {
	t.Helper()
	ctx := context.Background()
	info, err := video.Probe(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := video.NewDecoder(ctx, info, video.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := video.NewEncoder(ctx, info, out, video.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := video.NewFrame(info.Width, info.Height)
	for {
		_, err := dec.Next(f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			enc.Abort()
			t.Fatal(err)
		}
		if err := enc.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := video.Probe(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	return info, got
}

// Evidence times must not drift: every frame keeps its timestamp, including
// variable-frame-rate phone footage and AVI.
func TestReencodeKeepsEveryTimestamp(t *testing.T) {
	for _, name := range []string{"movie-hello.mp4", "vtest.avi", "phone-1080p.mp4", "Megamind.avi"} {
		t.Run(name, func(t *testing.T) {
			in, out := copyClip(t, videotest.Asset(t, name), filepath.Join(t.TempDir(), "out.mp4"))
			if out.Frames() != in.Frames() {
				t.Fatalf("frames: got %d, want %d", out.Frames(), in.Frames())
			}
			for i := range in.PTS {
				if a, b := in.Seconds(in.PTS[i]), out.Seconds(out.PTS[i]); a-b > 1e-9 || b-a > 1e-9 {
					t.Fatalf("frame %d at %.9f s, input had %.9f s", i, b, a)
				}
			}
			if out.Codec != "h264" {
				t.Fatalf("codec %s", out.Codec)
			}
		})
	}
}

func TestBadInputIsAClearError(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	notVideo := filepath.Join(dir, "notes.mp4")
	os.WriteFile(notVideo, []byte("this is not a video at all\n"), 0o600)
	if _, err := video.Probe(ctx, notVideo); !errors.Is(err, video.ErrNotVideo) {
		t.Errorf("text file: %v, want ErrNotVideo", err)
	}
	empty := filepath.Join(dir, "empty.mp4")
	os.WriteFile(empty, nil, 0o600)
	if _, err := video.Probe(ctx, empty); err == nil {
		t.Error("empty file probed without error")
	}
	huge := filepath.Join(dir, "huge.mkv")
	videotest.FFmpeg(t, "-f", "lavfi", "-i", "color=c=gray:s=8192x4608:d=0.04", "-c:v", "ffv1", huge)
	if _, err := video.Probe(ctx, huge); err == nil || !strings.Contains(err.Error(), "larger than H.264") {
		t.Errorf("8192×4608: %v", err)
	}
	audioOnly := filepath.Join(dir, "audio.m4a")
	videotest.FFmpeg(t, "-f", "lavfi", "-i", "sine=d=1", audioOnly)
	if _, err := video.Probe(ctx, audioOnly); !errors.Is(err, video.ErrNotVideo) {
		t.Errorf("audio only: %v", err)
	}
}

// A truncated file is refused while decoding, naming how much decoded.
func TestTruncatedInput(t *testing.T) {
	ctx := context.Background()
	// The index (moov) is at the start: the container lists frames whose
	// bytes are gone.
	src, err := os.ReadFile(videotest.Asset(t, "movie-hello.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.mp4")
	os.WriteFile(cut, src[:len(src)/2], 0o600)
	info, err := video.Probe(ctx, cut)
	if err != nil {
		return // refusing at probe time is as good
	}
	dec, err := video.NewDecoder(ctx, info, video.DecodeOptions{Width: 320})
	if err != nil {
		t.Fatal(err)
	}
	w, h := dec.Size()
	f := video.NewFrame(w, h)
	for {
		_, err = dec.Next(f)
		if err != nil {
			break
		}
	}
	if errors.Is(err, io.EOF) {
		t.Fatalf("truncated clip decoded as complete (%d frames listed)", info.Frames())
	}
	t.Log(err)
}

func TestPickLevel(t *testing.T) {
	for _, c := range []struct {
		w, h int
		fps  float64
		want string
	}{{1920, 1080, 30, "4.0"}, {1280, 720, 30, "3.1"}, {1920, 1080, 60, "4.2"}, {3840, 2160, 30, "5.1"}, {768, 576, 10, "3.1"}, {640, 480, 25, "3.0"}} {
		if got := video.PickLevel(c.w, c.h, c.fps); got.Name != c.want {
			t.Errorf("%dx%d@%v: %s, want %s", c.w, c.h, c.fps, got.Name, c.want)
		}
	}
	if c := video.PickLevel(1920, 1080, 30).Codec(); c != "avc1.640028" {
		t.Errorf("codec %s", c)
	}
}

// Audio is dropped unless asked for; asked for, the first track is kept.
func TestAudioOnlyOnRequest(t *testing.T) {
	ctx := context.Background()
	info, err := video.Probe(ctx, videotest.Asset(t, "movie-hello.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	for _, keep := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "out.mp4")
		dec, err := video.NewDecoder(ctx, info, video.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		enc, err := video.NewEncoder(ctx, info, out, video.EncodeOptions{KeepAudio: keep, Preset: "ultrafast"})
		if err != nil {
			t.Fatal(err)
		}
		f := video.NewFrame(info.Width, info.Height)
		for {
			if _, err := dec.Next(f); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			if err := enc.Write(f); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		streams, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", out).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(streams), "audio"); got != keep {
			t.Fatalf("keep audio %v: streams %q", keep, streams)
		}
	}
}

// FFmpegArgs asks the ffmpeg tool for the stream NewEncoder writes: libx264
// records its settings in the stream, and they must be the same, or the
// masking benchmark's baseline is not the same transcode.
func TestFFmpegArgsEncodeAsWeDo(t *testing.T) {
	dir := t.TempDir()
	in := videotest.Asset(t, "vtest.avi")
	ours := filepath.Join(dir, "ours.mp4")
	info, _ := copyClip(t, in, ours)
	args, err := video.FFmpegArgs(info, video.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(dir, "ffmpeg.mp4")
	videotest.FFmpeg(t, append(append([]string{"-i", in}, args...), theirs)...)
	settings := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(string(b), " - options: ")
		if i < 0 {
			t.Fatalf("%s: no x264 settings in the stream", path)
		}
		s := string(b[i:])
		return s[:strings.IndexByte(s, 0)]
	}
	if a, b := settings(ours), settings(theirs); a != b {
		t.Fatalf("x264 settings differ:\nours:   %s\nffmpeg: %s", a, b)
	}
}

// An encoder never replaces a file: an output that exists is refused before
// anything is encoded, and one that appears while encoding is refused at
// Close, both left as they were, with no temporary file behind.
func TestEncoderNeverOverwrites(t *testing.T) {
	ctx := context.Background()
	info, err := video.Probe(ctx, videotest.Asset(t, "movie-hello.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "export.mp4")
	if err := os.WriteFile(out, []byte("evidence"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := video.NewEncoder(ctx, info, out, video.EncodeOptions{Preset: "ultrafast"}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("NewEncoder over an existing file: %v, want fs.ErrExist", err)
	}
	late := filepath.Join(dir, "late.mp4")
	enc, err := video.NewEncoder(ctx, info, late, video.EncodeOptions{Preset: "ultrafast"})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := video.NewDecoder(ctx, info, video.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := video.NewFrame(info.Width, info.Height)
	for {
		if _, err := dec.Next(f); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if err := enc.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(late, []byte("someone else's"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Close onto a file that appeared: %v, want fs.ErrExist", err)
	}
	for path, want := range map[string]string{out: "evidence", late: "someone else's"} {
		if b, _ := os.ReadFile(path); string(b) != want {
			t.Errorf("%s was changed: %q", path, b)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
