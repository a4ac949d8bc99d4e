// Package watermark embeds an invisible, keyed 64-bit payload in the luma of
// every frame of a video and finds it again in a copy that leaked.
//
// # Scheme
//
// Each frame is divided into a grid of 64 × 36 cells laid over the whole
// picture, so the grid scales with the video: a copy scaled to any size has
// the same cells. A cell's value is its luma mean weighted by a smooth bump
// (sin·sin, zero at the cell's edges, so the change has no block edges). The
// embedder moves each cell's value onto a lattice of step Δ chosen by one
// coded bit (quantisation index modulation with a keyed dither per cell): it
// adds the bump times the needed shift. Rounding of the shift is kept
// between frames (hysteresis) so a static scene does not flicker.
//
// The 64-bit payload and a 32-bit keyed check (HMAC-SHA256) form a 96-bit
// message, protected by a rate-1/3 convolutional code (306 coded bits). A
// keyed permutation spreads the coded bits over the 2,304 cells (7 or 8 cells
// each) with keyed sign scrambling. Every frame carries the whole codeword,
// so dropped frames (15 fps conversion) and cuts do not matter; the detector
// adds up the soft decisions of all frames it reads, then runs Viterbi.
//
// Without the key, the dither (and so the lattice) of every cell is unknown:
// the payload can neither be read nor forged (the check is a MAC).
//
// # Detection and false alarms
//
// The detector measures the cells on the suspect copy at its own size,
// searches a global luma gain and offset (re-encodes through limited/full
// range conversions and brightness or contrast edits shift every cell), and
// accepts a decoded message only if its keyed 32-bit check matches. For a
// video not marked with this key, each decoded hypothesis passes the check
// with probability 2⁻³²; the p-value reported is that bound times the number
// of hypotheses tried (at most a few thousand: p ≤ 10⁻⁶).
package watermark

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Grid size: cells across and down every frame, whatever its size.
const (
	Cols  = 64
	Rows  = 36
	cells = Cols * Rows
)

// DefaultStep is Δ, the lattice step of a cell's weighted luma mean in 8-bit
// levels. The mean squared change is about (0.234 Δ)², so Δ = 6 costs about
// 45 dB PSNR before the encoder; see docs/watermark.md for the measured
// trade-off.
const DefaultStep = 4.0

// KeySize is the length of a watermark key.
const KeySize = 32

// Payload is the 64 bits a watermark carries: for exports, the appliance's
// number in the high 16 bits and the export's serial in the low 48.
type Payload uint64

// ExportPayload builds the payload of an export.
func ExportPayload(appliance uint16, serial uint64) Payload {
	return Payload(uint64(appliance)<<48 | serial&(1<<48-1))
}

// Appliance is the high 16 bits.
func (p Payload) Appliance() uint16 { return uint16(p >> 48) }

// Serial is the low 48 bits.
func (p Payload) Serial() uint64 { return uint64(p) & (1<<48 - 1) }

// String is 16 lower-case hex digits.
func (p Payload) String() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(p))
	return hex.EncodeToString(b[:])
}

// ParsePayload reads 16 hex digits.
func ParsePayload(s string) (Payload, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != 8 {
		return 0, fmt.Errorf("payload %q is not 16 hex digits", s)
	}
	return Payload(binary.BigEndian.Uint64(b)), nil
}

// Key is a per-appliance watermark key, expanded into what embedder and
// detector share: each cell's dither, coded bit and sign, and the check key.
type Key struct {
	dither [cells]float64 // in units of Δ, [0,1)
	bit    [cells]uint16  // coded bit carried by the cell
	flip   [cells]byte    // 1: the cell carries the bit inverted
	mac    []byte
}

// NewKey expands a 32-byte secret (keys.WatermarkKey).
func NewKey(secret []byte) (*Key, error) {
	if len(secret) != KeySize {
		return nil, fmt.Errorf("watermark key is %d bytes, want %d", len(secret), KeySize)
	}
	seed, err := hkdf.Key(sha256.New, secret, nil, "sealgate watermark v1 layout", 32)
	if err != nil {
		return nil, fmt.Errorf("derive watermark layout: %w", err)
	}
	mac, err := hkdf.Key(sha256.New, secret, nil, "sealgate watermark v1 check", 32)
	if err != nil {
		return nil, fmt.Errorf("derive watermark check key: %w", err)
	}
	// ChaCha8 is a cryptographically strong generator; seeded from the key
	// it gives the keyed layout without a construction of our own.
	rng := rand.New(rand.NewChaCha8([32]byte(seed)))
	k := &Key{mac: mac}
	for c, p := range rng.Perm(cells) {
		k.bit[p] = uint16(c % codedBits)
	}
	for c := range cells {
		k.dither[c] = rng.Float64()
		k.flip[c] = byte(rng.IntN(2))
	}
	return k, nil
}

// message returns the 96 message bits (0/1) of p: payload then check.
func (k *Key) message(p Payload) []byte {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(p))
	copy(b[8:], k.check(b[:8]))
	bits := make([]byte, msgBits)
	for i := range bits {
		bits[i] = b[i/8] >> (7 - i%8) & 1
	}
	return bits
}

// open returns the payload of message bits whose check matches.
func (k *Key) open(bits []byte) (Payload, bool) {
	var b [12]byte
	for i, v := range bits {
		b[i/8] |= v << (7 - i%8)
	}
	if !hmac.Equal(b[8:], k.check(b[:8])) {
		return 0, false
	}
	return Payload(binary.BigEndian.Uint64(b[:8])), true
}

func (k *Key) check(payload []byte) []byte {
	m := hmac.New(sha256.New, k.mac)
	m.Write(payload)
	return m.Sum(nil)[:4]
}
