// Package review serves the mask review editor's view of one clip from a
// child process: frames at a display size (optionally masked with the
// editor's current boxes, by the same renderer the export uses) and manual
// boxes carried across frames by a tracker.
//
// The daemon never parses video itself (docs/masking.md): it starts
// `sealgate-inner review-worker` for a clip and talks to it over the child's
// stdin and stdout ([Start], [Worker]); the child answers with [Serve]. A
// fault in FFmpeg or OpenCV ends the worker, and the daemon starts another.
//
// The protocol is one JSON request per line; each answer is one JSON line,
// followed by JPEG bytes when the answer says so.
package review

import "sealgate/inner/mask/plan"

// Operations.
const (
	OpFrame = "frame"
	OpTrack = "track"
)

// Request asks the worker for one thing.
type Request struct {
	Op    string `json:"op"`
	Frame int    `json:"frame"`
	// Frame: the largest width to show (the frame is scaled down by a
	// whole factor to fit) and, if Mask is set, the boxes to mask first.
	Width int       `json:"width,omitempty"`
	Mask  *MaskSpec `json:"mask,omitempty"`
	// Track: the box drawn on Frame, carried at most Span frames each way,
	// or only forwards if Forwards is set (re-tracking from a corrected box).
	Box      *plan.Box `json:"box,omitempty"`
	Span     int       `json:"span,omitempty"`
	Forwards bool      `json:"forwards,omitempty"`
}

// MaskSpec is what to mask on a previewed frame, in full-frame pixels.
type MaskSpec struct {
	Style  string     `json:"style"`
	Margin float64    `json:"margin"`
	Boxes  []plan.Box `json:"boxes"`
}

// Answer is the worker's reply. The first line a worker writes, before any
// request, is an Answer carrying Clip.
type Answer struct {
	Error string `json:"error,omitempty"`
	// JPEG is the number of JPEG bytes that follow the line.
	JPEG  int        `json:"jpeg,omitempty"`
	Boxes []plan.Box `json:"boxes,omitempty"`
	Clip  *Clip      `json:"clip,omitempty"`
}

// Clip describes the clip a worker serves.
type Clip struct {
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	Frames    int     `json:"frames"`
	FrameRate float64 `json:"fps"`
	// Times are the frames' presentation times in seconds from the first.
	Times []float64 `json:"times"`
}

// Limits on what crosses the pipe.
const (
	maxLine = 64 << 20
	maxJPEG = 32 << 20
	// MaxSpan is the most frames a manual box is carried each way.
	MaxSpan = 900
)
