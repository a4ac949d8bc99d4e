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
		{"atLeast leaves a large crop", atLeast(image.Rect(10, 10, 400, 300), 96, frame), image.Rect(10, 10, 400, 300)},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

// A walking person's head region is at the top of their silhouette, as
// wide as it is; a crowd wider than a tile is covered along its top by
// tiles.
func TestHeadsOfWhatMoved(t *testing.T) {
	frame := image.Rect(0, 0, 1920, 1080)
	person := image.Rect(500, 400, 560, 580) // 60×180
	hs := heads(person, frame)
	if len(hs) != 1 {
		t.Fatalf("one person: %d regions", len(hs))
	}
	if h := hs[0]; h.Min.Y > person.Min.Y || h.Max.Y > person.Min.Y+h.Dx() || h.Dx() < person.Dx() || h.Dy() >= person.Dy() {
		t.Errorf("person %v: region %v is not where the head is", person, h)
	}
	crowd := image.Rect(100, 300, 1100, 700)
	hs = heads(crowd, frame)
	if len(hs) < 4 {
		t.Fatalf("a crowd 1,000 px wide: %d regions", len(hs))
	}
	for _, h := range hs {
		if h.Dx() > NativeTile || h.Dy() > NativeTile || h.Min.Y > crowd.Min.Y+NativeTile {
			t.Errorf("crowd: region %v too large or below the top", h)
		}
	}
}

// Wants that overlap are read as one crop when that costs fewer network
// pixels; wants far apart stay apart; a crop keeps the finest scale of
// what it holds, so a small face beside a large one is still read at its
// own pixels.
func TestPackJoinsWhatOverlaps(t *testing.T) {
	frame := image.Rect(0, 0, 1920, 1080)
	near := pack([]want{{image.Rect(500, 300, 600, 400), 1}, {image.Rect(540, 320, 640, 420), 1}}, frame)
	if len(near) != 1 || !image.Rect(500, 300, 640, 420).In(near[0].Rectangle) {
		t.Errorf("two overlapping wants: %v, want one crop holding both", near)
	}
	far := pack([]want{{image.Rect(100, 100, 200, 200), 1}, {image.Rect(1500, 800, 1600, 900), 1}}, frame)
	if len(far) != 2 {
		t.Errorf("two wants far apart: %v, want two crops", far)
	}
	mixed := pack([]want{{image.Rect(400, 200, 700, 500), 0.3}, {image.Rect(690, 300, 760, 370), 1}}, frame)
	for _, c := range mixed {
		if image.Rect(690, 300, 760, 370).In(c.Rectangle) && c.Scale < 1 {
			t.Errorf("a small face's want read at scale %.2f", c.Scale)
		}
	}
	tiny := pack([]want{{image.Rect(0, 0, 20, 20), 1}}, frame)
	if len(tiny) != 1 || tiny[0].Dx() < MinCrop || tiny[0].Dy() < MinCrop {
		t.Errorf("a small want: %v, want a crop of at least %d", tiny, MinCrop)
	}
}

// A face reaching a crop's edge inside the picture may go on beyond it;
// at the picture's own edge it cannot.
func TestCutByEdge(t *testing.T) {
	frame := image.Rect(0, 0, 1920, 1080)
	inside, atRight := image.Rect(500, 500, 700, 700), image.Rect(1720, 500, 1920, 700)
	if !cutByEdge(image.Rect(680, 550, 700, 580), inside, frame) {
		t.Error("a face at a crop's right edge inside the picture was not cut")
	}
	if cutByEdge(image.Rect(1900, 550, 1920, 580), atRight, frame) {
		t.Error("a face at the picture's right edge was cut")
	}
	if cutByEdge(image.Rect(550, 550, 620, 620), inside, frame) {
		t.Error("a face inside the crop was cut")
	}
}
