package detect

// #cgo CFLAGS: -O3
// #include "shrink.h"
import "C"

import "unsafe"

// maxShrink is the largest factor shrink takes (its sums are 16-bit).
const maxShrink = 16

// shrinkFactor is k when a w×h plane shrinks to exactly dw×dh by k×k box
// means, else 0.
func shrinkFactor(w, h, dw, dh int) int {
	if dw <= 0 || dh <= 0 || w%dw != 0 {
		return 0
	}
	k := w / dw
	if k < 2 || k > maxShrink || h != dh*k {
		return 0
	}
	return k
}

// shrink writes the (w/k)×(h/k) box means of the w×h plane p to dst. col is
// scratch of at least w values.
func shrink(dst, p []byte, w, h, k int, col []uint16) {
	if len(p) < w*h || len(dst) < (w/k)*(h/k) || len(col) < w {
		panic("detect: shrink buffers too small")
	}
	C.sg_shrink((*C.uint8_t)(unsafe.Pointer(&p[0])), C.int(w), C.int(h), (*C.uint8_t)(unsafe.Pointer(&dst[0])), C.int(k), (*C.uint16_t)(unsafe.Pointer(&col[0])))
}
