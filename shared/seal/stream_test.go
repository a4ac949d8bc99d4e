package seal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

// TestStreamCatchesChunkAttacks exercises the STREAM layer on its own, as a
// reader that decrypts before the signature check (a streaming player)
// relies on it: reordering, duplication, dropping the last chunk and
// splicing chunks from another package all fail to open.
func TestStreamCatchesChunkAttacks(t *testing.T) {
	const size = 3*ChunkSize + 10
	key, nonce := make([]byte, 32), make([]byte, nonceSize)
	rand.Read(key)
	rand.Read(nonce)
	plain := make([]byte, size)
	rand.Read(plain)
	encrypt := func(s *stream) [][]byte {
		var cs [][]byte
		for i := range s.chunks {
			off := i * ChunkSize
			cs = append(cs, s.seal(nil, plain[off:off+chunkLen(size, i)], i))
		}
		return cs
	}
	s, err := newStream(key, nonce, size)
	if err != nil {
		t.Fatal(err)
	}
	good := encrypt(s)
	nonce2 := bytes.Clone(nonce)
	nonce2[0] ^= 1
	s2, _ := newStream(key, nonce2, size)
	other := encrypt(s2)
	short, _ := newStream(key, nonce, 2*ChunkSize) // a reader told the payload ends early

	for _, tc := range []struct {
		name   string
		s      *stream
		chunks [][]byte
		bad    int64
	}{
		{"intact", s, good, -1},
		{"reordered", s, [][]byte{good[1], good[0], good[2], good[3]}, 0},
		{"duplicated", s, [][]byte{good[0], good[0], good[2], good[3]}, 1},
		{"spliced from another package", s, [][]byte{good[0], other[1], good[2], good[3]}, 1},
		{"truncated to full chunks", short, good[:2], 1}, // chunk 1 was not sealed as last
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			for i, c := range tc.chunks {
				pt, err := tc.s.open(nil, c, int64(i))
				if err != nil {
					var ce *ChunkError
					if int64(i) != tc.bad || !errors.As(err, &ce) || !errors.Is(err, ErrTampered) {
						t.Fatalf("chunk %d: %v (expected failure at %d)", i, err, tc.bad)
					}
					return
				}
				out.Write(pt)
			}
			if tc.bad >= 0 {
				t.Fatalf("no chunk refused, expected chunk %d", tc.bad)
			}
			if !bytes.Equal(out.Bytes(), plain) {
				t.Fatal("intact stream decrypted wrongly")
			}
		})
	}
}
