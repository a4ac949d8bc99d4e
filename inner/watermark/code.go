package watermark

// The channel code: the 96-bit message (payload and its keyed check) is
// protected by the standard rate-1/3, constraint-length-7 convolutional code
// (generators 133, 171, 165 octal, as in LTE), terminated with six zero bits
// and decoded with a soft-decision Viterbi decoder. Soft decisions come for
// free from the QIM detector, and soft Viterbi gains several dB over
// hard-decision block codes at the same rate.

const (
	msgBits    = 96 // 64-bit payload + 32-bit check
	constraint = 7
	tailBits   = constraint - 1
	rate       = 3
	codedBits  = (msgBits + tailBits) * rate // 306
	states     = 1 << tailBits
)

var generators = [rate]uint{0o133, 0o171, 0o165}

// outputs[state][input] are the rate coded bits for input bit into state
// (state = the previous six input bits, newest in bit 5).
var outputs = func() (t [states][2][rate]byte) {
	for s := range states {
		for in := range 2 {
			reg := uint(in)<<tailBits | uint(s)
			for k, g := range generators {
				t[s][in][k] = byte(parity(reg & g))
			}
		}
	}
	return t
}()

func parity(v uint) uint {
	var p uint
	for ; v != 0; v &= v - 1 {
		p ^= 1
	}
	return p
}

func next(s, in int) int { return (in<<tailBits | s) >> 1 }

// encode returns the coded bits (0/1) of msg (msgBits bits, 0/1).
func encode(msg []byte) []byte {
	out := make([]byte, 0, codedBits)
	s := 0
	for i := range msgBits + tailBits {
		in := 0
		if i < msgBits {
			in = int(msg[i])
		}
		out = append(out, outputs[s][in][:]...)
		s = next(s, in)
	}
	return out
}

// decode is soft-decision Viterbi: soft[j] > 0 says coded bit j is more
// likely 0, < 0 that it is 1, and its size how sure. It returns the message
// bits of the path that best agrees with soft (terminated in state 0).
func decode(soft []float64) []byte {
	const inf = -1e300
	var metric, nextMetric [states]float64
	for s := range metric {
		metric[s] = inf
	}
	metric[0] = 0
	steps := msgBits + tailBits
	from := make([][states]uint8, steps) // survivor: previous state
	for i := range steps {
		for s := range nextMetric {
			nextMetric[s] = inf
		}
		sym := soft[i*rate : i*rate+rate]
		for s := range states {
			if metric[s] == inf {
				continue
			}
			maxIn := 1
			if i >= msgBits {
				maxIn = 0 // tail: zeros only
			}
			for in := 0; in <= maxIn; in++ {
				o := &outputs[s][in]
				m := metric[s]
				for k := range rate {
					if o[k] == 0 {
						m += sym[k]
					} else {
						m -= sym[k]
					}
				}
				ns := next(s, in)
				if m > nextMetric[ns] {
					nextMetric[ns] = m
					from[i][ns] = uint8(s)
				}
			}
		}
		metric = nextMetric
	}
	bits := make([]byte, steps)
	s := 0
	for i := steps - 1; i >= 0; i-- {
		bits[i] = byte(s >> (tailBits - 1)) // the input that led into s
		s = int(from[i][s])
	}
	return bits[:msgBits]
}
