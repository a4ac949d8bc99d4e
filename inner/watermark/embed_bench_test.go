package watermark_test

import (
	"math/rand/v2"
	"testing"

	"sealgate/inner/video"
	"sealgate/inner/watermark"
)

// BenchmarkEmbed1080p is the embedder alone on one core, in memory.
func BenchmarkEmbed1080p(b *testing.B) {
	key := NewKey(b)
	em, err := watermark.NewEmbedder(key, 42, 1920, 1080, watermark.DefaultStep)
	if err != nil {
		b.Fatal(err)
	}
	f := video.NewFrame(1920, 1080)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range f.Data {
		f.Data[i] = uint8(rng.IntN(256))
	}
	b.SetBytes(int64(len(f.Y())))
	for b.Loop() {
		em.Embed(f)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
