// Package plan is the mask plan: which region of which frame is masked, and
// why. It is the reviewed, versioned record that an export's masking is
// rendered from, saved with the export and hashed into the sealed package's
// manifest (docs/masking.md documents the format).
package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Version is the plan format this code writes and reads.
const Version = 1

// Limits keep a hostile plan from costing memory or time.
const (
	MaxBytes     = 256 << 20
	MaxFrames    = 10_000_000
	MaxTracks    = 200_000
	MaxDimension = 8192
)

// Kinds of tracked region.
const (
	KindFace   = "face"
	KindPerson = "person"
	KindPlate  = "plate"
	KindManual = "manual"
)

// Sources of a track.
const (
	SourceAuto   = "auto"
	SourceManual = "manual"
)

// How a box came to be.
const (
	ByDetector     = "detector"
	ByInterpolated = "interpolated" // between two detections of the track
	ByPadding      = "padding"      // before the first or after the last detection
	ByManual       = "manual"       // drawn by the operator
	ByTracker      = "tracker"      // carried from a manual box by the tracker
)

// Styles of masking.
const (
	StyleMosaic = "mosaic"
	StyleBlur   = "blur"
	StyleSolid  = "solid"
)

// Plan is a clip's masking.
type Plan struct {
	Version int `json:"version"`
	// The frame geometry the boxes refer to.
	Width  int `json:"width"`
	Height int `json:"height"`
	Frames int `json:"frames"`
	// Style and Margin (a fraction of each box's size added on every side).
	Style  string  `json:"style"`
	Margin float64 `json:"margin"`
	Tracks []Track `json:"tracks"`
}

// Track is one subject or object across frames.
type Track struct {
	ID     int    `json:"id"`
	Kind   string `json:"kind"`
	Source string `json:"source"`
	// Excluded tracks are left unmasked; Reason says why (ReasonSubject or
	// ReasonNotSensitive), as the reviewer decided.
	Excluded bool   `json:"excluded,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Boxes    []Box  `json:"boxes"`
}

// Why a reviewer left a track unmasked.
const (
	ReasonSubject      = "subject"       // the data subject of the request
	ReasonNotSensitive = "not_sensitive" // a false detection: no face or plate there
)

// Box is a rectangle on one frame, in pixels of the full frame.
type Box struct {
	F  int    `json:"f"`
	X  int    `json:"x"`
	Y  int    `json:"y"`
	W  int    `json:"w"`
	H  int    `json:"h"`
	By string `json:"by"`
}

var (
	kinds   = []string{KindFace, KindPerson, KindPlate, KindManual}
	sources = []string{SourceAuto, SourceManual}
	bys     = []string{ByDetector, ByInterpolated, ByPadding, ByManual, ByTracker}
	styles  = []string{StyleMosaic, StyleBlur, StyleSolid}
)

// ValidStyle reports whether s names a style.
func ValidStyle(s string) bool { return slices.Contains(styles, s) }

// Parse reads a plan strictly: unknown fields, other versions, boxes outside
// the frame or out of order, duplicate track ids are all errors.
func Parse(r io.Reader) (*Plan, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading mask plan: %w", err)
	}
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("mask plan is larger than %d MiB", MaxBytes>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("mask plan: %w", err)
	}
	if dec.More() {
		return nil, errors.New("mask plan: trailing data after the document")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks every rule Parse enforces.
func (p *Plan) Validate() error {
	if p.Version != Version {
		return fmt.Errorf("mask plan version %d: this build reads version %d", p.Version, Version)
	}
	if p.Width < 2 || p.Height < 2 || p.Width > MaxDimension || p.Height > MaxDimension {
		return fmt.Errorf("mask plan: frame size %d×%d out of range", p.Width, p.Height)
	}
	if p.Frames < 1 || p.Frames > MaxFrames {
		return fmt.Errorf("mask plan: %d frames out of range", p.Frames)
	}
	if !ValidStyle(p.Style) {
		return fmt.Errorf("mask plan: style %q is not one of %v", p.Style, styles)
	}
	if !(p.Margin >= 0 && p.Margin <= 1) {
		return fmt.Errorf("mask plan: margin %v is not within 0..1", p.Margin)
	}
	if len(p.Tracks) > MaxTracks {
		return fmt.Errorf("mask plan: %d tracks (at most %d)", len(p.Tracks), MaxTracks)
	}
	ids := make(map[int]bool, len(p.Tracks))
	for i, t := range p.Tracks {
		if t.ID < 1 || ids[t.ID] {
			return fmt.Errorf("mask plan: track %d has a bad or repeated id %d", i, t.ID)
		}
		ids[t.ID] = true
		if !slices.Contains(kinds, t.Kind) || !slices.Contains(sources, t.Source) {
			return fmt.Errorf("mask plan: track %d: kind %q / source %q unknown", t.ID, t.Kind, t.Source)
		}
		if t.Reason != "" && (!t.Excluded || (t.Reason != ReasonSubject && t.Reason != ReasonNotSensitive)) {
			return fmt.Errorf("mask plan: track %d: reason %q (only for an excluded track: %s or %s)", t.ID, t.Reason, ReasonSubject, ReasonNotSensitive)
		}
		if len(t.Boxes) > p.Frames {
			return fmt.Errorf("mask plan: track %d has more boxes than the clip has frames", t.ID)
		}
		for j, b := range t.Boxes {
			if b.F < 0 || b.F >= p.Frames || (j > 0 && b.F <= t.Boxes[j-1].F) {
				return fmt.Errorf("mask plan: track %d box %d: frame %d out of range or order", t.ID, j, b.F)
			}
			if b.W < 1 || b.H < 1 || b.X < 0 || b.Y < 0 || b.W > p.Width || b.H > p.Height || b.X > p.Width-b.W || b.Y > p.Height-b.H {
				return fmt.Errorf("mask plan: track %d frame %d: box %d,%d %d×%d is not inside the %d×%d frame", t.ID, b.F, b.X, b.Y, b.W, b.H, p.Width, p.Height)
			}
			if !slices.Contains(bys, b.By) {
				return fmt.Errorf("mask plan: track %d frame %d: unknown box origin %q", t.ID, b.F, b.By)
			}
		}
	}
	return nil
}

// Encode is the plan's canonical JSON: what is saved and what is hashed.
func (p *Plan) Encode() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(p)
}

// SHA256 is the hex SHA-256 of the canonical encoding (the manifest's
// mask_plan_sha256).
func (p *Plan) SHA256() (string, error) {
	b, err := p.Encode()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// NextID is an id no track uses.
func (p *Plan) NextID() int {
	id := 0
	for _, t := range p.Tracks {
		id = max(id, t.ID)
	}
	return id + 1
}

// Index is the plan by frame: for each frame, the boxes to mask
// (excluded tracks left out). Index.At is cheap enough for every frame.
type Index struct {
	byFrame map[int][]Box
}

// Masked builds the per-frame index of the boxes to mask.
func (p *Plan) Masked() *Index {
	ix := &Index{byFrame: make(map[int][]Box)}
	for _, t := range p.Tracks {
		if t.Excluded {
			continue
		}
		for _, b := range t.Boxes {
			ix.byFrame[b.F] = append(ix.byFrame[b.F], b)
		}
	}
	return ix
}

// At is the boxes to mask on frame f.
func (ix *Index) At(f int) []Box { return ix.byFrame[f] }
