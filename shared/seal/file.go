package seal

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"sealgate/shared/atomicfile"
)

// SealFile seals the video at in into a new package file at out. It hashes
// the video first and checks the hash against m.DeliveredSHA256 when that
// is set. out appears only once complete and synced; on any error nothing
// is left behind, and an existing out is never replaced.
func SealFile(in, out string, m Manifest, opts Options) (*Manifest, error) {
	f, err := os.Open(in)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("seal: read %s: %w", in, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if m.DeliveredSHA256 != "" && m.DeliveredSHA256 != sum {
		return nil, fmt.Errorf("seal: manifest delivered_sha256 %s does not match %s (%s)", m.DeliveredSHA256, in, sum)
	}
	m.DeliveredSHA256 = sum
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	var sealed *Manifest
	err = WriteAtomic(out, 0o600, func(w io.Writer) error {
		var err error
		sealed, err = Seal(w, bufio.NewReaderSize(f, 1<<20), size, m, opts)
		return err
	})
	return sealed, err
}

// OpenFile verifies the package file at path (see [Verify]) and returns it
// open, for unwrapping and decrypting.
func OpenFile(path string, signer ed25519.PublicKey) (*os.File, *Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("seal: %s is not a regular file", path)
	}
	p, err := Verify(bufio.NewReaderSize(f, 1<<20), signer)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, p, nil
}

// DecryptFile writes the video of the verified package p, read from f, to a
// new file at out (mode 0600). The file appears only after every chunk and
// the manifest's SHA-256 have checked out.
func (p *Package) DecryptFile(f *os.File, k *Key, out string) error {
	if _, err := f.Seek(p.PayloadOffset, io.SeekStart); err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	return WriteAtomic(out, 0o600, func(w io.Writer) error {
		return p.Decrypt(w, bufio.NewReaderSize(f, 1<<20), k)
	})
}

// WriteAtomic creates path create-only through [atomicfile]: a temporary
// file in the same directory, written, synced, then linked into place and
// the directory synced. It refuses to replace an existing path (the error
// wraps fs.ErrExist), and removes the temporary file on any error, so a
// reader never sees a partial file and a full disk loses nothing.
func WriteAtomic(path string, perm os.FileMode, write func(io.Writer) error) error {
	f, err := atomicfile.Create(path, perm)
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	defer f.Abort()
	w := bufio.NewWriterSize(f, 1<<20)
	if err := write(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("seal: write %s: %w", path, err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	return nil
}

// ReadPasswordFile reads a password from a file, dropping one trailing
// newline (as editors and `echo` leave), and refuses an empty or huge one.
func ReadPasswordFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: password file: %w", err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("seal: password file %s is empty", path)
	case len(b) > 1024:
		return nil, fmt.Errorf("seal: password file %s holds more than 1024 bytes; is it the right file?", path)
	}
	return b, nil
}
