package mask

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"

	"gocv.io/x/gocv"

	"sealgate/inner/mask/detect"
	"sealgate/inner/mask/plan"
	"sealgate/inner/mask/render"
	"sealgate/inner/video"
)

// HaarFrontalFace is the second-opinion face detector of the leak check
// (Debian's opencv-data).
const HaarFrontalFace = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

// Suspect is a frame of the masked output that may still show someone.
type Suspect struct {
	Frame  int    `json:"frame"`
	Reason string `json:"reason"` // "face_detected", "track_gap", "cut_by_border"
	X      int    `json:"x"`
	Y      int    `json:"y"`
	W      int    `json:"w"`
	H      int    `json:"h"`
}

// LeakReport is recorded with the export so the approver sees it before
// release: an empty list is the goal, not a guarantee.
type LeakReport struct {
	FramesChecked int       `json:"frames_checked"`
	Suspects      []Suspect `json:"suspects"`
}

// LeakCheck looks at the masked output independently of the pass that made
// it: a different face detector (Haar cascade) and BlazeFace at a lower
// threshold on overlapping tiles, on about ten frames a second; plus a scan
// of the plan for gaps inside tracks and boxes cut by the frame border.
// Faces of excluded tracks (the data subject) are expected and not listed.
func LeakCheck(ctx context.Context, masked string, p *plan.Plan, modelsDir string) (*LeakReport, error) {
	info, err := probeFor(ctx, masked, p)
	if err != nil {
		return nil, err
	}
	if modelsDir == "" {
		modelsDir = DefaultModelsDir()
	}
	faces, err := detect.NewFaces(filepath.Join(modelsDir, detect.BlazeFaceFile))
	if err != nil {
		return nil, err
	}
	defer faces.Close()
	if _, err := os.Stat(HaarFrontalFace); err != nil {
		return nil, fmt.Errorf("leak check needs the Haar cascades of opencv-data (make deps): %w", err)
	}
	haar := gocv.NewCascadeClassifier()
	defer haar.Close()
	if !haar.Load(HaarFrontalFace) {
		return nil, fmt.Errorf("leak check: cannot load %s", HaarFrontalFace)
	}
	rep := &LeakReport{Suspects: []Suspect{}}
	rep.Suspects = append(rep.Suspects, planSuspects(p)...)

	// A detection mostly inside a planned region is the mask itself (a
	// mosaic can still look face-like to a detector told to be sensitive)
	// or the excluded data subject; a leak is a face outside them.
	planned := map[int][]plan.Box{}
	for _, t := range p.Tracks {
		for _, b := range t.Boxes {
			planned[b.F] = append(planned[b.F], b)
		}
	}
	const width = 640
	dec, err := video.NewDecoder(ctx, info, video.DecodeOptions{Width: width})
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	w, h := dec.Size()
	f := video.NewFrame(w, h)
	small := detect.NewSmall(width)
	defer small.Close()
	stride := max(1, int(math.Round(info.FrameRate/10)))
	sx := float64(info.Width) / float64(w)
	for {
		i, err := dec.Next(f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if i%stride != 0 {
			continue
		}
		if err := small.Load(f); err != nil {
			return nil, err
		}
		rep.FramesChecked++
		found, err := faces.DetectTiles(small, 0.45)
		if err != nil {
			return nil, err
		}
		rects := make([]image.Rectangle, 0, len(found))
		for _, b := range found {
			rects = append(rects, b.Rectangle)
		}
		rects = append(rects, haar.DetectMultiScaleWithParams(small.Gray(), 1.1, 4, 0, image.Pt(12, 12), image.Pt(0, 0))...)
		for _, b := range rects {
			// Back from the 640-wide copy to the clip's pixels.
			b := image.Rect(int(float64(b.Min.X)*sx), int(float64(b.Min.Y)*sx), int(float64(b.Max.X)*sx), int(float64(b.Max.Y)*sx))
			if overlapsAny(b, planned[i], p) {
				continue
			}
			rep.Suspects = append(rep.Suspects, Suspect{Frame: i, Reason: "face_detected", X: b.Min.X, Y: b.Min.Y, W: b.Dx(), H: b.Dy()})
		}
	}
	return rep, nil
}

// planSuspects lists frames inside a masked track that have no box, and
// boxes touching the frame border (a face entering or leaving the picture is
// the hardest for a detector; the reviewer should look).
func planSuspects(p *plan.Plan) []Suspect {
	var out []Suspect
	for _, t := range p.Tracks {
		if t.Excluded {
			continue
		}
		for j, b := range t.Boxes {
			if j > 0 {
				for f := t.Boxes[j-1].F + 1; f < b.F; f++ {
					a := t.Boxes[j-1]
					out = append(out, Suspect{Frame: f, Reason: "track_gap", X: a.X, Y: a.Y, W: a.W, H: a.H})
				}
			}
			if t.Kind == plan.KindFace && (b.X == 0 || b.Y == 0 || b.X+b.W >= p.Width || b.Y+b.H >= p.Height) {
				out = append(out, Suspect{Frame: b.F, Reason: "cut_by_border", X: b.X, Y: b.Y, W: b.W, H: b.H})
			}
		}
	}
	return out
}

func overlapsAny(r image.Rectangle, boxes []plan.Box, p *plan.Plan) bool {
	for _, b := range boxes {
		g := render.Grow(b, p.Margin, p.Width, p.Height)
		in := r.Intersect(image.Rect(g.X0, g.Y0, g.X1, g.Y1))
		if !in.Empty() && in.Dx()*in.Dy()*2 >= r.Dx()*r.Dy() {
			return true
		}
	}
	return false
}
