package review

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"reflect"
	"strings"
	"testing"

	"sealgate/inner/mask/plan"
)

// FuzzRequest fuzzes a request line as the worker reads it, seeded with
// the requests the daemon's Worker writes. An accepted request is the same
// request once written again and read back; a refused one is answered
// "bad request" (the worker stays up).
func FuzzRequest(f *testing.F) {
	box := plan.Box{F: 12, X: 100, Y: 80, W: 64, H: 48, By: plan.ByManual}
	for _, req := range []Request{
		{Op: OpFrame, Frame: 0, Width: 960},
		{Op: OpFrame, Frame: 7, Width: 640, Mask: &MaskSpec{Style: plan.StyleMosaic, Margin: 0.15, Boxes: []plan.Box{box}}},
		{Op: OpTrack, Frame: 12, Box: &box, Span: MaxSpan},
		{Op: OpTrack, Frame: 12, Box: &box, Span: 75, Forwards: true},
	} {
		b, err := json.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"op":"frame","frame":1} {"op":"track"}`))
	f.Add([]byte(`{"op":"frame","frame":1,"x":2}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		req, err := parseRequest(line)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "bad request: ") {
				t.Fatalf("refusal %q is not a bad request", err)
			}
			return
		}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseRequest(b)
		if err != nil || !reflect.DeepEqual(again, req) {
			t.Fatalf("request %q, written again as %s, reads back as %+v (%v)", line, b, again, err)
		}
	})
}

// FuzzAnswers fuzzes what the daemon reads from a worker's stdout: the
// first answer (the clip), then answers with their JPEG bytes, seeded with
// what Serve's send writes. Whatever is read is bounded (an answer line by
// maxLine, a picture by maxJPEG and exactly as long as announced); a clip
// hello accepts is consistent; and an answer read, written again by send,
// reads back the same.
func FuzzAnswers(f *testing.F) {
	var pic bytes.Buffer
	if err := jpeg.Encode(&pic, image.NewGray(image.Rect(0, 0, 16, 8)), nil); err != nil {
		f.Fatal(err)
	}
	clip := &Clip{Width: 1280, Height: 720, Frames: 3, FrameRate: 25, Times: []float64{0, 0.04, 0.08}}
	var stream bytes.Buffer
	out := bufio.NewWriter(&stream)
	send(out, Answer{Clip: clip}, nil)
	send(out, Answer{}, pic.Bytes())
	send(out, Answer{Boxes: []plan.Box{{F: 1, X: 2, Y: 3, W: 40, H: 40, By: plan.ByManual}, {F: 2, X: 3, Y: 3, W: 40, H: 40, By: plan.ByTracker}}}, nil)
	send(out, Answer{Error: "the clip has no frame 9 (it has 3)"}, nil)
	f.Add(stream.Bytes())
	f.Add([]byte(`{"clip":{"width":1280,"height":720,"frames":2,"fps":25,"times":[0]}}` + "\n"))
	f.Add([]byte(`{"clip":{"width":8,"height":8,"frames":0,"fps":0,"times":[]}}` + "\n" + `{"jpeg":33554433}` + "\n"))
	f.Add([]byte(`{"clip":{"width":8,"height":8,"frames":0,"fps":0,"times":[]}}` + "\n" + `{"jpeg":5}` + "\nab"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w := &Worker{out: bufio.NewReaderSize(bytes.NewReader(data), 256<<10)}
		for i := 0; i < 8; i++ {
			ans, img, err := w.read()
			if err != nil {
				return
			}
			if ans.JPEG < 0 || ans.JPEG > maxJPEG || len(img) != ans.JPEG {
				t.Fatalf("answer announces %d JPEG bytes, read %d", ans.JPEG, len(img))
			}
			if i == 0 {
				c, err := hello(ans)
				if err != nil {
					return // Start kills the worker
				}
				if c.Width < 1 || c.Height < 1 || c.Frames < 0 || len(c.Times) != c.Frames {
					t.Fatalf("accepted clip %+v", c)
				}
			}
			var again bytes.Buffer
			bw := bufio.NewWriter(&again)
			if err := send(bw, ans, img); err != nil {
				t.Fatal(err)
			}
			r := &Worker{out: bufio.NewReader(&again)}
			ans2, img2, err := r.read()
			a, _ := json.Marshal(ans)
			b, _ := json.Marshal(ans2)
			if err != nil || !bytes.Equal(a, b) || !bytes.Equal(img, img2) {
				t.Fatalf("answer %s with %d bytes reads back as %s with %d bytes (%v)", a, len(img), b, len(img2), err)
			}
		}
	})
}
