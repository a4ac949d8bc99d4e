package watermark

import (
	"context"
	"errors"
	"io"
	"math"

	"sealgate/inner/video"
)

// BitAccuracy reads a copy marked with p and reports, at gain 1 and the
// best global offset, the raw bit accuracy of single cells (the channel
// before any accumulation) and of the 306 coded bits accumulated over the
// frames read (what the Viterbi decoder gets). Chance is 0.5 for both.
func BitAccuracy(ctx context.Context, path string, key *Key, p Payload) (cell, coded float64, err error) {
	info, err := video.Probe(ctx, path)
	if err != nil {
		return 0, 0, err
	}
	dec, err := video.NewDecoder(ctx, info, video.DecodeOptions{})
	if err != nil {
		return 0, 0, err
	}
	defer dec.Close()
	g := newGrid(info.Width, info.Height)
	want := encode(key.message(p))
	f := video.NewFrame(info.Width, info.Height)
	var m [cells]float64
	var best, bestCoded float64
	var cellRight [offsetSteps]float64
	var z [offsetSteps][codedBits]float64
	n := 0
	for n < MaxFrames {
		if _, err := dec.Next(f); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 0, 0, err
		}
		n++
		g.measure(f.Y(), &m)
		for o := range offsetSteps {
			for c, v := range m {
				soft := math.Cos(2 * math.Pi * (v/DefaultStep - key.dither[c] - float64(o)/offsetSteps))
				bit := want[key.bit[c]] ^ key.flip[c]
				if (soft > 0) == (bit == 0) {
					cellRight[o]++
				}
				if key.flip[c] == 1 {
					soft = -soft
				}
				z[o][key.bit[c]] += soft
			}
		}
	}
	for o := range offsetSteps {
		if acc := cellRight[o] / float64(n*cells); acc > best {
			best = acc
			right := 0
			for j, b := range want {
				if (z[o][j] > 0) == (b == 0) {
					right++
				}
			}
			bestCoded = float64(right) / codedBits
		}
	}
	return best, bestCoded, nil
}
