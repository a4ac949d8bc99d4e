package seal_test

import (
	"bufio"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"sealgate/shared/seal"
)

// TestMultiGigabyteRoundTripInBoundedMemory seals, verifies and decrypts a
// 2 GiB video through a file, and proves that no step's allocations grow with
// the video's size.
func TestMultiGigabyteRoundTripInBoundedMemory(t *testing.T) {
	const size = 2<<30 + 17
	source := func() io.Reader { return io.LimitReader(rand.NewChaCha8([32]byte{7}), size) }
	sum := sha256.New()
	if _, err := io.Copy(sum, source()); err != nil {
		t.Fatal(err)
	}
	p := newParties(t)
	m := manifestFor(nil)
	m.DeliveredSHA256 = hex.EncodeToString(sum.Sum(nil))
	path := filepath.Join(t.TempDir(), "big.sgpkg")

	allocated := measure(t, func() {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		if _, err := seal.Seal(w, source(), size, m, seal.Options{Signer: p.signer, Recipients: []hpke.PublicKey{p.license.PublicKey()}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("seal: %d MiB allocated for a %d MiB video", allocated>>20, int64(size)>>20)

	allocated = measure(t, func() {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		pkg, err := seal.Verify(bufio.NewReaderSize(f, 1<<20), pub(p))
		if err != nil {
			t.Fatal(err)
		}
		k, err := pkg.UnwrapLicense(p.license)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Seek(pkg.PayloadOffset, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if err := pkg.Decrypt(io.Discard, bufio.NewReaderSize(f, 1<<20), k); err != nil {
			t.Fatal(err) // includes the SHA-256 comparison with the manifest
		}
	})
	t.Logf("verify + decrypt: %d MiB allocated", allocated>>20)
}

// measure runs fn and fails if it allocated more than 32 MiB in all.
func measure(t *testing.T, fn func()) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	got := after.TotalAlloc - before.TotalAlloc
	if got > 32<<20 {
		t.Fatalf("allocated %d MiB: memory grows with the video", got>>20)
	}
	return got
}
