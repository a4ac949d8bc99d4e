package detect

import (
	"image"
	"testing"
)

// The grid covers every pixel of the frame with tiles of NativeTile, and
// any face up to a third of a tile lies whole inside one of them.
func TestGridCoversWithOverlap(t *testing.T) {
	for _, size := range []image.Point{{1280, 720}, {1920, 1080}, {2560, 1440}, {320, 240}, {330, 500}} {
		frame := image.Rectangle{Max: size}
		tiles := grid(frame)
		for _, tile := range tiles {
			if !tile.In(frame) || tile.Dx() > NativeTile || tile.Dy() > NativeTile {
				t.Fatalf("%v: tile %v outside the frame or larger than %d", size, tile, NativeTile)
			}
		}
		face := NativeTile / 3
		for y := 0; y+face <= size.Y; y += 7 {
			for x := 0; x+face <= size.X; x += 7 {
				f := image.Rect(x, y, x+face, y+face)
				whole := false
				for _, tile := range tiles {
					if f.In(tile) {
						whole = true
						break
					}
				}
				if !whole {
					t.Fatalf("%v: a %d px face at %v is in no tile whole", size, face, f.Min)
				}
			}
		}
	}
}

func TestCropGeometry(t *testing.T) {
	frame := image.Rect(0, 0, 1280, 720)
	for _, c := range []struct {
		name string
		got  image.Rectangle
		want image.Rectangle
	}{
		{"around a small face: MinCrop", around(image.Rect(100, 100, 110, 110), 50, frame), image.Rect(57, 57, 153, 153)},
		{"around, clamped to NativeTile", around(image.Rect(600, 300, 700, 400), 500, frame), image.Rect(490, 190, 810, 510)},
		{"around, kept inside the frame", around(image.Rect(0, 0, 20, 20), 100, frame), image.Rect(0, 0, 100, 100)},
		{"around, at the far corner", around(image.Rect(1270, 710, 1280, 720), 100, frame), image.Rect(1180, 620, 1280, 720)},
		{"atLeast leaves a large crop", atLeast(image.Rect(10, 10, 400, 300), 96, frame), image.Rect(10, 10, 400, 300)},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

// A walking person's crop is at the top of their silhouette, as wide as it
// is; a crowd wider than a tile is covered along its top by tiles.
func TestHeadsOfWhatMoved(t *testing.T) {
	frame := image.Rect(0, 0, 1920, 1080)
	person := image.Rect(500, 400, 560, 580) // 60×180
	crops := heads(person, frame)
	if len(crops) != 1 {
		t.Fatalf("one person: %d crops", len(crops))
	}
	if c := crops[0]; c.Min.Y > person.Min.Y || c.Max.Y > person.Min.Y+c.Dx() || c.Dx() < MinCrop || c.Dx() > NativeTile {
		t.Errorf("person %v: crop %v is not a head crop", person, c)
	}
	crowd := image.Rect(100, 300, 1100, 700)
	crops = heads(crowd, frame)
	if len(crops) < 4 {
		t.Fatalf("a crowd 1,000 px wide: %d crops", len(crops))
	}
	for _, c := range crops {
		if c.Dx() > NativeTile || c.Dy() > NativeTile || c.Min.Y > crowd.Min.Y+NativeTile {
			t.Errorf("crowd: crop %v too large or below the top", c)
		}
	}
}
