package watermark

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestViterbiCorrectsErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		msg := make([]byte, msgBits)
		for i := range msg {
			msg[i] = byte(rng.IntN(2))
		}
		coded := encode(msg)
		if len(coded) != codedBits {
			t.Fatalf("coded %d bits, want %d", len(coded), codedBits)
		}
		// Soft values with Gaussian noise (σ = 0.8: about 11 % of hard
		// decisions wrong, Eb/N0 3.7 dB), plus a few erased bits.
		soft := make([]float64, codedBits)
		wrong := 0
		for j, b := range coded {
			soft[j] = 1 - 2*float64(b) + 0.8*rng.NormFloat64()
			if (soft[j] > 0) != (b == 0) {
				wrong++
			}
		}
		for range 10 {
			soft[rng.IntN(codedBits)] = 0
		}
		got := decode(soft)
		for i := range msg {
			if got[i] != msg[i] {
				t.Fatalf("trial %d: message bit %d wrong after %d hard errors of %d", trial, i, wrong, codedBits)
			}
		}
	}
}

// turn agrees with math.Sincos to 3·10⁻⁷ everywhere, including phases just
// below a whole turn and negative ones.
func TestTurnIsSincos(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	xs := []float64{0, 1, -1, 0.5, 1 - 1e-17, -1e-17, 255.0 / 3, -0.25}
	for range 100000 {
		xs = append(xs, (rng.Float64()-0.5)*200)
	}
	for _, x := range xs {
		s, c := math.Sincos(2 * math.Pi * x)
		if z := turn(x); math.Abs(real(z)-c) > 3e-7 || math.Abs(imag(z)-s) > 3e-7 {
			t.Fatalf("turn(%g) = %v, want %v", x, z, complex(c, s))
		}
	}
}
