package detect

import "unsafe"

// float32Bytes views floats as bytes (the layout OpenCV expects).
func float32Bytes(f []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(f))), len(f)*4)
}
