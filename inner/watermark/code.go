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

// outputIndex[state][input] is outputs[state][input] as a number (coded bit
// k in bit k): the index of the branch's metric among a step's eight.
var outputIndex = func() (t [states][2]uint8) {
	for s := range states {
		for in := range 2 {
			for k, b := range outputs[s][in] {
				t[s][in] |= b << k
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
	const steps = msgBits + tailBits
	var from [steps][states]uint8 // survivor: previous state
	// A trace decodes thousands of hypotheses: each step's eight possible
	// branch metrics are summed once, not once per branch.
	var branch [1 << rate]float64
	for i := range steps {
		for s := range nextMetric {
			nextMetric[s] = inf
		}
		sym := soft[i*rate : i*rate+rate]
		for o := range branch {
			m := 0.0
			for k := range rate {
				if o>>k&1 == 0 {
					m += sym[k]
				} else {
					m -= sym[k]
				}
			}
			branch[o] = m
		}
		maxIn := 1
		if i >= msgBits {
			maxIn = 0 // tail: zeros only
		}
		for s := range states {
			if metric[s] == inf {
				continue
			}
			for in := 0; in <= maxIn; in++ {
				m := metric[s] + branch[outputIndex[s][in]]
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
