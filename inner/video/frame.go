package video

// Frame is one decoded picture in planar yuv420p: a full-size luma plane
// followed by quarter-size U and V planes. Width and Height are even.
type Frame struct {
	Width, Height int
	Data          []byte
}

// NewFrame allocates a frame.
func NewFrame(w, h int) *Frame {
	return &Frame{Width: w, Height: h, Data: make([]byte, FrameBytes(w, h))}
}

// Y is the luma plane (stride Width).
func (f *Frame) Y() []byte { return f.Data[:f.Width*f.Height] }

// U is the blue-difference plane (stride Width/2).
func (f *Frame) U() []byte {
	n := f.Width * f.Height
	return f.Data[n : n+n/4]
}

// V is the red-difference plane (stride Width/2).
func (f *Frame) V() []byte {
	n := f.Width * f.Height
	return f.Data[n+n/4 : n+n/2]
}
