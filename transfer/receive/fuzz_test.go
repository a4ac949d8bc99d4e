package receive

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"sealgate/transfer"
)

// realRecord is the .lanes file openPartial writes for o, after lane 0 is
// checkpointed at mid.
func realRecord(f *testing.F, o transfer.Offer, mid int64) []byte {
	dir := f.TempDir()
	p, err := openPartial(filepath.Join(dir, "x.partial"), filepath.Join(dir, "x.lanes"), o)
	if err != nil {
		f.Fatal(err)
	}
	defer p.close()
	if err := p.checkpoint(0, mid); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(p.state)
	if err != nil {
		f.Fatal(err)
	}
	if _, ok := readRecord(p.state, o); !ok {
		f.Fatal("the receiver's own record is refused")
	}
	return b
}

// FuzzLanesRecord fuzzes the .lanes record a restarted receiver resumes
// from (readRecord's parse step), for any offer ReadOffer accepts. A record it accepts has one
// offset per lane, each inside its lane (so no write lands outside the
// package and no lane is skipped), and is exactly what writeRecord would
// write for those offsets. With fixCRC the checksum is made to match, as a
// torn write never would, to test the checks behind it.
func FuzzLanesRecord(f *testing.F) {
	for _, o := range []transfer.Offer{{Size: 10 << 20, Lanes: 10}, {Size: 1, Lanes: 1}, {Size: 1000, Lanes: transfer.MaxLanes}} {
		start, end := o.Range()
		f.Add(uint64(o.Size), uint8(o.Lanes), realRecord(f, o, (start+end)/2), false)
		f.Add(uint64(o.Size), uint8(o.Lanes), realRecord(f, o, (start+end)/2), true)
	}
	f.Add(uint64(100), uint8(2), []byte("SGL2"), false)
	f.Fuzz(func(t *testing.T, size uint64, lanes uint8, record []byte, fixCRC bool) {
		o := transfer.Offer{Size: int64(size), Lanes: int(lanes)}
		o, err := transfer.ReadOffer(bytes.NewReader(o.Marshal()))
		if err != nil {
			return // the receiver never gets this far
		}
		if n := len(record) - 4; fixCRC && n >= 0 {
			// Past the checksum, so the fuzzer reaches the checks behind it.
			binary.BigEndian.PutUint32(record[n:], crc32.ChecksumIEEE(record[:n]))
		}
		held, ok := parseRecord(record, o)
		if !ok {
			return
		}
		if len(held) != o.Lanes {
			t.Fatalf("%d offsets for %d lanes", len(held), o.Lanes)
		}
		for i, h := range held {
			if start, end := transfer.LaneRange(o.Size, o.Lanes, i); h < start || h > end {
				t.Fatalf("lane %d [%d, %d) resumes at %d", i, start, end, h)
			}
		}
		if again := encodeRecord(o.Size, o.Lanes, held); !bytes.Equal(again, record) {
			t.Fatalf("accepted record %x is rewritten as %x", record, again)
		}
	})
}
