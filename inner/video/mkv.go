package video

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// mkvWriter writes raw yuv420p frames with exact per-frame timestamps as a
// minimal Matroska stream (V_UNCOMPRESSED, fourcc I420, 1 ns timestamp
// scale) for ffmpeg to read on stdin. A raw pipe cannot carry timestamps, and
// variable-frame-rate footage (phones, NVRs dropping frames) must keep every
// frame's time: evidence times must not drift.
type mkvWriter struct {
	w   *bufio.Writer
	hdr []byte
}

// Matroska element IDs (with their length markers, as written).
const (
	idEBML           = 0x1A45DFA3
	idEBMLVersion    = 0x4286
	idEBMLReadVer    = 0x42F7
	idEBMLMaxIDLen   = 0x42F2
	idEBMLMaxSizeLen = 0x42F3
	idDocType        = 0x4282
	idDocTypeVer     = 0x4287
	idDocTypeReadVer = 0x4285
	idSegment        = 0x18538067
	idInfo           = 0x1549A966
	idTimestampScale = 0x2AD7B1
	idMuxingApp      = 0x4D80
	idWritingApp     = 0x5741
	idTracks         = 0x1654AE6B
	idTrackEntry     = 0xAE
	idTrackNumber    = 0xD7
	idTrackUID       = 0x73C5
	idTrackType      = 0x83
	idCodecID        = 0x86
	idVideo          = 0xE0
	idPixelWidth     = 0xB0
	idPixelHeight    = 0xBA
	idColourSpace    = 0x2EB524
	idCluster        = 0x1F43B675
	idTimestamp      = 0xE7
	idSimpleBlock    = 0xA3
)

func newMKVWriter(w io.Writer, width, height int) (*mkvWriter, error) {
	m := &mkvWriter{w: bufio.NewWriterSize(w, 1<<20)}
	ebml := cat(
		el(idEBMLVersion, uintBytes(1)), el(idEBMLReadVer, uintBytes(1)),
		el(idEBMLMaxIDLen, uintBytes(4)), el(idEBMLMaxSizeLen, uintBytes(8)),
		el(idDocType, []byte("matroska")), el(idDocTypeVer, uintBytes(4)), el(idDocTypeReadVer, uintBytes(2)))
	info := cat(el(idTimestampScale, uintBytes(1)), el(idMuxingApp, []byte("sealgate")), el(idWritingApp, []byte("sealgate")))
	video := cat(el(idPixelWidth, uintBytes(uint64(width))), el(idPixelHeight, uintBytes(uint64(height))), el(idColourSpace, []byte("I420")))
	track := cat(el(idTrackNumber, uintBytes(1)), el(idTrackUID, uintBytes(1)), el(idTrackType, uintBytes(1)),
		el(idCodecID, []byte("V_UNCOMPRESSED")), el(idVideo, video))
	var b []byte
	b = append(b, el(idEBML, ebml)...)
	b = appendID(b, idSegment)
	b = append(b, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF) // unknown size: a stream
	b = append(b, el(idInfo, info)...)
	b = append(b, el(idTracks, el(idTrackEntry, track))...)
	if _, err := m.w.Write(b); err != nil {
		return nil, fmt.Errorf("writing the frame stream header: %w", err)
	}
	return m, nil
}

// WriteFrame writes one frame at ns nanoseconds in its own cluster.
func (m *mkvWriter) WriteFrame(ns int64, data []byte) error {
	if ns < 0 {
		return fmt.Errorf("negative timestamp %d ns", ns)
	}
	ts := el(idTimestamp, uintBytes(uint64(ns)))
	blockHdr := []byte{0x81, 0, 0, 0x80} // track 1, relative time 0, keyframe
	blockLen := len(blockHdr) + len(data)
	block := appendSize(appendID(nil, idSimpleBlock), blockLen)
	clusterLen := len(ts) + len(block) + blockLen
	h := appendSize(appendID(m.hdr[:0], idCluster), clusterLen)
	h = append(h, ts...)
	h = append(h, block...)
	h = append(h, blockHdr...)
	m.hdr = h
	if _, err := m.w.Write(h); err != nil {
		return err
	}
	_, err := m.w.Write(data)
	return err
}

func (m *mkvWriter) Flush() error { return m.w.Flush() }

func el(id uint32, payload []byte) []byte {
	return append(appendSize(appendID(nil, id), len(payload)), payload...)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func appendID(b []byte, id uint32) []byte {
	switch {
	case id >= 1<<24:
		return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<16:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<8:
		return append(b, byte(id>>8), byte(id))
	}
	return append(b, byte(id))
}

// appendSize writes an 8-byte EBML size (simple, valid for any length).
func appendSize(b []byte, n int) []byte {
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], uint64(n))
	s[0] = 0x01
	return append(b, s[:]...)
}

func uintBytes(v uint64) []byte {
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], v)
	i := 0
	for i < 7 && s[i] == 0 {
		i++
	}
	return s[i:]
}
