package seal

import (
	"bytes"
	"path/filepath"
	"testing"
)

// FuzzVerify feeds arbitrary bytes to Verify, seeded with every vector. It
// must never panic, and whatever it accepts must be one of the genuinely
// signed seed packages, byte for byte: a signed package cannot be altered.
func FuzzVerify(f *testing.F) {
	files, _ := filepath.Glob("testdata/vectors/*.txt")
	var valid [][]byte
	for _, path := range files {
		v := readVector(f, path)
		f.Add(v.pkg)
		if _, err := Verify(bytes.NewReader(v.pkg), nil); err == nil {
			valid = append(valid, v.pkg)
		}
	}
	if len(valid) == 0 {
		f.Fatal("no valid seed package")
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Verify(bytes.NewReader(data), nil)
		if err != nil {
			return
		}
		for _, v := range valid {
			if bytes.Equal(v, data) {
				if p.Size != int64(len(data)) {
					t.Fatalf("accepted package reports size %d of %d", p.Size, len(data))
				}
				return
			}
		}
		t.Fatalf("Verify accepted %d bytes that are not a signed seed", len(data))
	})
}

// FuzzManifest fuzzes the manifest parser on its own (in a package it only
// runs after the signature check): it must not panic, and what it accepts
// must re-encode to the same bytes.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(`{"delivered_sha256":"` + string(bytes.Repeat([]byte("a"), 64)) + `","delivered_size":1,"created_at":"2026-11-23T00:00:00Z","signer_key_id":"sha256:00"}`))
	f.Add([]byte(`{"export_code":"SG-1","camera":{"name":"CAM-1"},"delivered_sha256":"","delivered_size":0,"created_at":"2026-11-23T00:00:00Z","signer_key_id":"x"}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest(data)
		if err != nil {
			return
		}
		b, err := m.Encode()
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("accepted manifest does not round-trip: %q", data)
		}
	})
}

// FuzzReadHeader: the header-only reader never panics, and a header it
// accepts from a seed package is that package's own.
func FuzzReadHeader(f *testing.F) {
	files, _ := filepath.Glob("testdata/vectors/*.txt")
	for _, path := range files {
		f.Add(readVector(f, path).pkg)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHeader(bytes.NewReader(data))
		if err != nil {
			return
		}
		if h.PayloadOffset > int64(len(data)) || h.Chunks != chunks(h.PayloadSize) {
			t.Fatalf("accepted header with offset %d of %d bytes, %d chunks for %d", h.PayloadOffset, len(data), h.Chunks, h.PayloadSize)
		}
	})
}
