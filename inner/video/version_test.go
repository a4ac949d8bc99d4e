package video_test

import (
	"regexp"
	"testing"

	"sealgate/inner/video"
)

func TestOpenCVIsLinked(t *testing.T) {
	if v := video.OpenCVVersion(); !regexp.MustCompile(`^4\.\d+\.\d+`).MatchString(v) {
		t.Fatalf("OpenCVVersion() = %q, want 4.x.y", v)
	}
}
