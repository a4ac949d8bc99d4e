package plan

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// The review editor's refusals. Each error an edit returns wraps one of
// these with the detail the reviewer needs, so a caller can tell a missing
// track from a bad request with errors.Is and still show the message.
var (
	// ErrNoTrack: no track has the id.
	ErrNoTrack = errors.New("plan: no such track")
	// ErrNotManual: the track is a detection, and the export's render
	// detects again and keeps only the plan's exclusions of detections, so
	// editing its boxes would change nothing that is exported.
	ErrNotManual = errors.New("plan: a detection's boxes are not edited")
	// ErrEmptyCut: a cut would leave the track without a box.
	ErrEmptyCut = errors.New("plan: nothing of the track would be left")
	// ErrBadBox: a box outside the clip's frames, too small to draw, out of
	// order or of the wrong origin.
	ErrBadBox = errors.New("plan: bad box")
	// ErrBadReason: a reason to leave a track unmasked that is not one.
	ErrBadReason = errors.New("plan: bad reason")
	// ErrTooManyTracks: the plan holds MaxTracks tracks already.
	ErrTooManyTracks = errors.New("plan: too many tracks")
)

// MinDrawn is the smallest box a reviewer may draw, in pixels each way: the
// tracker cannot start on less.
const MinDrawn = 8

// Clone is a copy of p whose tracks can be edited without touching p, so
// an edit can be tried on the copy and the copy kept only if it is stored.
// Boxes are shared: no method changes a Boxes slice in place, edits build
// new ones.
func (p *Plan) Clone() *Plan {
	q := *p
	q.Tracks = slices.Clone(p.Tracks)
	return &q
}

// track is track id of p, to edit in place.
func (p *Plan) track(id int) (*Track, error) {
	i := slices.IndexFunc(p.Tracks, func(t Track) bool { return t.ID == id })
	if i < 0 {
		return nil, fmt.Errorf("%w: %d", ErrNoTrack, id)
	}
	return &p.Tracks[i], nil
}

// manual refuses to edit the boxes of a detection.
func (p *Plan) manual(id int) (*Track, error) {
	t, err := p.track(id)
	if err != nil {
		return nil, err
	}
	if t.Source != SourceManual {
		return nil, fmt.Errorf("%w: leave track %d unmasked as a false detection, or draw a box", ErrNotManual, id)
	}
	return t, nil
}

// inside reports whether b lies on one of p's frames and inside the
// picture, written so that no sum can overflow.
func (p *Plan) inside(b Box, least int) bool {
	return b.F >= 0 && b.F < p.Frames && b.W >= least && b.H >= least && b.X >= 0 && b.Y >= 0 &&
		b.W <= p.Width && b.H <= p.Height && b.X <= p.Width-b.W && b.Y <= p.Height-b.H
}

// CheckBox refuses a box the reviewer drew on track id unless the track is
// manual and the box is drawn (ByManual), at least MinDrawn pixels each way
// and inside the frame on one of the clip's frames. The editor checks
// before the slow re-tracking; SetBox and Retrack check again.
func (p *Plan) CheckBox(id int, b Box) error {
	_, err := p.drawn(id, b)
	return err
}

// drawn is CheckBox returning the track to edit.
func (p *Plan) drawn(id int, b Box) (*Track, error) {
	t, err := p.manual(id)
	if err != nil {
		return nil, err
	}
	if !p.inside(b, MinDrawn) {
		return nil, fmt.Errorf("%w: %d,%d %d×%d on frame %d must be at least %d×%d and inside the %d×%d frame of %d frames",
			ErrBadBox, b.X, b.Y, b.W, b.H, b.F, MinDrawn, MinDrawn, p.Width, p.Height, p.Frames)
	}
	if b.By != ByManual {
		return nil, fmt.Errorf("%w: the box on frame %d is %q, not drawn (%s)", ErrBadBox, b.F, b.By, ByManual)
	}
	return t, nil
}

// carried sorts a copy of boxes by frame and refuses any a manual track
// cannot hold: outside the frame, two on one frame, or not drawn or
// carried by the tracker. The tracker's boxes may be smaller than a drawn
// one where the subject leaves the picture, so only the frame bounds them.
func (p *Plan) carried(boxes []Box) ([]Box, error) {
	boxes = slices.Clone(boxes)
	slices.SortStableFunc(boxes, func(a, b Box) int { return cmpFrame(a, b.F) })
	for i, b := range boxes {
		switch {
		case !p.inside(b, 1):
			return nil, fmt.Errorf("%w: %d,%d %d×%d on frame %d is not inside the %d×%d frame of %d frames",
				ErrBadBox, b.X, b.Y, b.W, b.H, b.F, p.Width, p.Height, p.Frames)
		case i > 0 && boxes[i-1].F == b.F:
			return nil, fmt.Errorf("%w: two boxes on frame %d", ErrBadBox, b.F)
		case b.By != ByManual && b.By != ByTracker:
			return nil, fmt.Errorf("%w: the box on frame %d is %q: a drawn track's boxes are %s or %s", ErrBadBox, b.F, b.By, ByManual, ByTracker)
		}
	}
	return boxes, nil
}

// cmpFrame orders a box against frame f, for the binary searches.
func cmpFrame(b Box, f int) int { return cmp.Compare(b.F, f) }

// AddManual adds a track the reviewer drew: the drawn box and what the
// tracker carried it to, in any order (they are sorted by frame). It is
// KindManual from SourceManual, with an id no track uses.
func (p *Plan) AddManual(boxes []Box) (Track, error) {
	if len(boxes) == 0 {
		return Track{}, fmt.Errorf("%w: a drawn track needs at least one box", ErrBadBox)
	}
	boxes, err := p.carried(boxes)
	if err != nil {
		return Track{}, err
	}
	id := p.NextID()
	if len(p.Tracks) >= MaxTracks || id < 1 {
		return Track{}, fmt.Errorf("%w: a plan holds at most %d", ErrTooManyTracks, MaxTracks)
	}
	t := Track{ID: id, Kind: KindManual, Source: SourceManual, Boxes: boxes}
	p.Tracks = append(p.Tracks, t)
	return t, nil
}

// Exclude leaves track id unmasked, for the reason the reviewer gave:
// ReasonSubject (the data subject of the request) or ReasonNotSensitive (a
// false detection: only detections are, a drawn track is deleted instead).
func (p *Plan) Exclude(id int, reason string) error {
	t, err := p.track(id)
	if err != nil {
		return err
	}
	switch {
	case reason == ReasonNotSensitive && t.Source == SourceManual:
		return fmt.Errorf("%w: track %d was drawn, not detected: delete it rather than leave it unmasked as a false detection", ErrBadReason, id)
	case reason != ReasonSubject && reason != ReasonNotSensitive:
		return fmt.Errorf("%w: %q: a track is left unmasked as %s (the data subject) or %s (a false detection)", ErrBadReason, reason, ReasonSubject, ReasonNotSensitive)
	}
	t.Excluded, t.Reason = true, reason
	return nil
}

// Include masks track id again, whatever it was left unmasked for.
func (p *Plan) Include(id int) error {
	t, err := p.track(id)
	if err != nil {
		return err
	}
	t.Excluded, t.Reason = false, ""
	return nil
}

// Delete removes a drawn track. A detection is not deleted: the export
// detects it again, so it is left unmasked as a false detection instead.
func (p *Plan) Delete(id int) error {
	if _, err := p.manual(id); err != nil {
		return err
	}
	p.Tracks = slices.DeleteFunc(p.Tracks, func(t Track) bool { return t.ID == id })
	return nil
}

// CutBefore makes drawn track id start at frame: it keeps the boxes on
// frame and after. A cut that would leave no box is refused.
func (p *Plan) CutBefore(id, frame int) error {
	t, err := p.manual(id)
	if err != nil {
		return err
	}
	i, _ := slices.BinarySearchFunc(t.Boxes, frame, cmpFrame)
	if i == len(t.Boxes) {
		return fmt.Errorf("%w: track %d has no box on frame %d or after: delete it instead", ErrEmptyCut, id, frame)
	}
	t.Boxes = slices.Clone(t.Boxes[i:])
	return nil
}

// CutAfter makes drawn track id end at frame: it keeps the boxes on frame
// and before. A cut that would leave no box is refused.
func (p *Plan) CutAfter(id, frame int) error {
	t, err := p.manual(id)
	if err != nil {
		return err
	}
	i, found := slices.BinarySearchFunc(t.Boxes, frame, cmpFrame)
	if found {
		i++
	}
	if i == 0 {
		return fmt.Errorf("%w: track %d has no box on frame %d or before: delete it instead", ErrEmptyCut, id, frame)
	}
	t.Boxes = slices.Clone(t.Boxes[:i])
	return nil
}

// SetBox puts the reviewer's corrected box b (moved or resized) on frame
// b.F of drawn track id; the track's other boxes stay as they were.
func (p *Plan) SetBox(id int, b Box) (Track, error) {
	t, err := p.drawn(id, b)
	if err != nil {
		return Track{}, err
	}
	i, found := slices.BinarySearchFunc(t.Boxes, b.F, cmpFrame)
	j := i
	if found {
		j++
	}
	t.Boxes = slices.Concat(t.Boxes[:i], []Box{b}, t.Boxes[j:])
	return *t, nil
}

// Retrack puts the corrected box b on frame b.F of drawn track id and
// replaces the rest of the track with tail, what the tracker carried b to
// from b.F on: how a track that drifted is put right. The boxes before b.F
// stay; b stands for the tail's own box on b.F, if it has one.
func (p *Plan) Retrack(id int, b Box, tail []Box) (Track, error) {
	t, err := p.drawn(id, b)
	if err != nil {
		return Track{}, err
	}
	tail, err = p.carried(tail)
	if err != nil {
		return Track{}, err
	}
	if len(tail) > 0 && tail[0].F < b.F {
		return Track{}, fmt.Errorf("%w: the tracker's box on frame %d is before frame %d it carried the box on from", ErrBadBox, tail[0].F, b.F)
	}
	if len(tail) > 0 && tail[0].F == b.F {
		tail = tail[1:]
	}
	i, _ := slices.BinarySearchFunc(t.Boxes, b.F, cmpFrame)
	t.Boxes = slices.Concat(t.Boxes[:i], []Box{b}, tail)
	return *t, nil
}

// BoxesAt is the boxes to mask on frame f: those of every track not
// excluded, as the preview and the export mask them (Masked().At(f), without
// indexing every frame for one).
func (p *Plan) BoxesAt(f int) []Box {
	var out []Box
	for _, t := range p.Tracks {
		if t.Excluded {
			continue
		}
		if i, ok := slices.BinarySearchFunc(t.Boxes, f, cmpFrame); ok {
			out = append(out, t.Boxes[i])
		}
	}
	return out
}

// TrackBox is a box and the track it belongs to, as the editor draws it
// over the picture.
type TrackBox struct {
	Track int `json:"t"`
	Box
}

// BoxesIn is every track's boxes on frames [from, to), excluded tracks
// too (the editor shows them as unmasked), track by track. It is never nil,
// so it encodes as a JSON list.
func (p *Plan) BoxesIn(from, to int) []TrackBox {
	out := []TrackBox{}
	for _, t := range p.Tracks {
		i, _ := slices.BinarySearchFunc(t.Boxes, from, cmpFrame)
		for ; i < len(t.Boxes) && t.Boxes[i].F < to; i++ {
			out = append(out, TrackBox{t.ID, t.Boxes[i]})
		}
	}
	return out
}

// Counts is what a plan's save puts on record, and the export ledger after
// the render: how many tracks, how many of them drawn, how many left
// unmasked for each reason, and the masked ones of each detected kind.
// Drawn and left unmasked overlap: a drawn track left unmasked as the
// subject is both.
type Counts struct {
	Tracks       int `json:"tracks"`
	Manual       int `json:"manual"`        // SourceManual
	Subjects     int `json:"subjects"`      // left unmasked: ReasonSubject
	NotSensitive int `json:"not_sensitive"` // left unmasked: ReasonNotSensitive
	Faces        int `json:"faces"`         // masked, KindFace
	Plates       int `json:"plates"`        // masked, KindPlate
	People       int `json:"people"`        // masked, KindPerson
}

// Count tallies the plan's tracks for the record of its save and the
// ledger.
func (p *Plan) Count() Counts {
	n := Counts{Tracks: len(p.Tracks)}
	for _, t := range p.Tracks {
		if t.Source == SourceManual {
			n.Manual++
		}
		if t.Excluded {
			switch t.Reason {
			case ReasonSubject:
				n.Subjects++
			case ReasonNotSensitive:
				n.NotSensitive++
			}
			continue
		}
		switch t.Kind {
		case KindFace:
			n.Faces++
		case KindPlate:
			n.Plates++
		case KindPerson:
			n.People++
		}
	}
	return n
}
