package detect

import (
	"image"
	"math/rand/v2"
	"testing"

	"gocv.io/x/gocv"
)

// The whole-factor shrink gives each output pixel the rounded mean of its
// k×k block, and agrees with the OpenCV area interpolation it stands in for
// (within one level: OpenCV rounds through floating point).
func TestShrinkIsTheBlockMean(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct{ w, h, k int }{{1920, 1080, 3}, {1280, 720, 2}, {3840, 2160, 6}, {64, 48, 4}, {160, 96, 16}} {
		p := make([]byte, c.w*c.h)
		for i := range p {
			p[i] = byte(r.IntN(256))
		}
		dw, dh := c.w/c.k, c.h/c.k
		if got := shrinkFactor(c.w, c.h, dw, dh); got != c.k {
			t.Fatalf("%d×%d → %d×%d: factor %d, want %d", c.w, c.h, dw, dh, got, c.k)
		}
		out := make([]byte, dw*dh)
		shrink(out, p, c.w, c.h, c.k, make([]uint16, c.w))
		src, err := gocv.NewMatFromBytes(c.h, c.w, gocv.MatTypeCV8U, p)
		if err != nil {
			t.Fatal(err)
		}
		ref := gocv.NewMat()
		gocv.Resize(src, &ref, image.Pt(dw, dh), 0, 0, gocv.InterpolationArea)
		cv := ref.ToBytes()
		src.Close()
		ref.Close()
		for y := range dh {
			for x := range dw {
				sum, n := 0, c.k*c.k
				for j := range c.k {
					for i := range c.k {
						sum += int(p[(y*c.k+j)*c.w+x*c.k+i])
					}
				}
				want := byte((sum + n/2) / n)
				got := out[y*dw+x]
				if got != want {
					t.Fatalf("%d×%d by %d: pixel %d,%d is %d, want %d", c.w, c.h, c.k, x, y, got, want)
				}
				if d := int(got) - int(cv[y*dw+x]); d < -1 || d > 1 {
					t.Fatalf("%d×%d by %d: pixel %d,%d is %d, OpenCV's area resize %d", c.w, c.h, c.k, x, y, got, cv[y*dw+x])
				}
			}
		}
	}
	for _, c := range []struct{ w, h, dw, dh, k int }{
		{1920, 1080, 640, 360, 3}, {720, 480, 640, 426, 0}, {1920, 1080, 1920, 1080, 0},
		{100, 100, 3, 3, 0}, {1700, 100, 100, 5, 0}, {1280, 720, 640, 358, 0},
	} {
		if got := shrinkFactor(c.w, c.h, c.dw, c.dh); got != c.k {
			t.Fatalf("shrinkFactor(%d×%d → %d×%d) = %d, want %d", c.w, c.h, c.dw, c.dh, got, c.k)
		}
	}
}
