package watermark_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"sealgate/inner/video"
	"sealgate/inner/watermark"
)

// BenchmarkRobustness is the robustness table: per clip and attack, payload
// recovered (1/0), single-cell and accumulated coded bit accuracy (chance
// 0.5), and the PSNR of the marks. Marking speed inside the render pass is
// in inner/mask's BenchmarkMask (watermark_overhead_%).
func BenchmarkRobustness(b *testing.B) {
	for _, clip := range Clips {
		b.Run(strings.Fields(clip.Name)[0], func(b *testing.B) {
			m := MarkClip(b, clip.Asset)
			for _, a := range Attacks {
				b.Run(strings.NewReplacer(" ", "_", "(", "", ")", "", ",", "").Replace(a.Name), func(b *testing.B) {
					in := Attacked(b, m, a)
					var found float64
					for b.Loop() {
						r, err := watermark.Trace(context.Background(), in, m.Key)
						if err != nil {
							b.Fatal(err)
						}
						found = 0
						if r.Found && r.Payload == m.Payload.String() {
							found = 1
						}
					}
					cell, coded, err := watermark.BitAccuracy(context.Background(), in, m.Key, m.Payload)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(found, "recovered")
					b.ReportMetric(cell, "cell_bit_acc")
					b.ReportMetric(coded, "coded_bit_acc")
					b.ReportMetric(m.Result.WatermarkPSNR, "PSNR_dB")
				})
			}
		})
	}
}

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
