package seal_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"sealgate/shared/seal"
)

// BenchmarkThroughput measures, on one goroutine over the same 128 MiB:
// raw AES-256-GCM in 64 KiB chunks (the baseline of docs/architecture.md, "Budgets"), the floor
// any key-less-verifiable format pays (AES-256-GCM + SHA-256 of the
// ciphertext), and seal, verify, streaming decrypt and random-access
// decrypt. Each is reported in MB/s and as a percentage of both baselines.
func BenchmarkThroughput(b *testing.B) {
	const size = 128 << 20
	video := make([]byte, size)
	rand.NewChaCha8([32]byte{1}).Read(video)
	sum := sha256.Sum256(video)
	p := newParties(b)
	m := manifestFor(nil)
	m.DeliveredSHA256 = hex.EncodeToString(sum[:])
	opts := seal.Options{Signer: p.signer, Recipients: []hpke.PublicKey{p.license.PublicKey()}}
	var pkgBuf bytes.Buffer
	if _, err := seal.Seal(&pkgBuf, bytes.NewReader(video), size, m, opts); err != nil {
		b.Fatal(err)
	}
	pkgBytes := pkgBuf.Bytes()
	pkg, err := seal.Verify(bytes.NewReader(pkgBytes), nil)
	if err != nil {
		b.Fatal(err)
	}
	key, err := pkg.UnwrapLicense(p.license)
	if err != nil {
		b.Fatal(err)
	}
	block, _ := aes.NewCipher(make([]byte, 32))
	gcm, _ := cipher.NewGCM(block)
	out := make([]byte, 0, seal.ChunkSize+16)
	nonce := make([]byte, 12)

	var t = map[string]time.Duration{}
	timeIt := func(name string, fn func()) {
		start := time.Now()
		fn()
		t[name] += time.Since(start)
	}
	b.ResetTimer()
	for range b.N {
		timeIt("raw", func() {
			for off := 0; off < size; off += seal.ChunkSize {
				out = gcm.Seal(out[:0], nonce, video[off:off+seal.ChunkSize], nil)
			}
		})
		timeIt("floor", func() {
			h := sha256.New()
			for off := 0; off < size; off += seal.ChunkSize {
				out = gcm.Seal(out[:0], nonce, video[off:off+seal.ChunkSize], nil)
				h.Write(out)
			}
		})
		timeIt("seal", func() {
			if _, err := seal.Seal(io.Discard, bytes.NewReader(video), size, m, opts); err != nil {
				b.Fatal(err)
			}
		})
		timeIt("verify", func() {
			if _, err := seal.Verify(bytes.NewReader(pkgBytes), nil); err != nil {
				b.Fatal(err)
			}
		})
		timeIt("decrypt", func() {
			if err := pkg.Decrypt(io.Discard, bytes.NewReader(pkgBytes[pkg.PayloadOffset:]), key); err != nil {
				b.Fatal(err)
			}
		})
		timeIt("readat", func() {
			ra, buf := pkg.NewReaderAt(bytes.NewReader(pkgBytes), key), make([]byte, seal.ChunkSize)
			for off := int64(0); off < size; off += seal.ChunkSize {
				if _, err := ra.ReadAt(buf, off); err != nil && err != io.EOF {
					b.Fatal(err)
				}
			}
		})
	}
	b.StopTimer()
	mbps := func(name string) float64 { return float64(size) * float64(b.N) / t[name].Seconds() / 1e6 }
	raw, floor := mbps("raw"), mbps("floor")
	b.ReportMetric(raw, "raw-aesgcm-MB/s")
	b.ReportMetric(floor, "aesgcm+sha256-MB/s")
	for _, name := range []string{"seal", "verify", "decrypt", "readat"} {
		b.ReportMetric(mbps(name), name+"-MB/s")
		b.ReportMetric(100*mbps(name)/raw, name+"-%raw")
		b.ReportMetric(100*mbps(name)/floor, name+"-%floor")
	}
}
