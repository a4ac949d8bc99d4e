// Package video is the inner daemon's window on OpenCV (through gocv): the
// only place besides mask/ and watermark/ that links C code.
package video

import "gocv.io/x/gocv"

// OpenCVVersion is the version of the OpenCV library linked into the binary.
func OpenCVVersion() string { return gocv.OpenCVVersion() }
