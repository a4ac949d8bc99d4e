// Package backup writes and reads a daemon's backup archive: a tar stream
// encrypted with age (filippo.io/age) to an operator's X25519 key or
// passphrase, holding a manifest, the key directory's files and the
// database dump (docs/backup.md).
//
// # Layout
//
// The tar stream inside age holds, in this order:
//
//	manifest.json           format version, daemon kind, appliance number,
//	                        software version, creation time, schema versions
//	keys/NAME …             the key directory's regular files, with their modes
//	database/part-NNNNNN …  pg_dump --format=custom output, cut in parts
//	SHA256SUMS              sha256sum(1) lines for every entry above
//
// The manifest comes first so that a restore refuses an archive of the
// other daemon or a newer format before reading the rest; the sums come
// last because the dump is streamed and its hashes are known only at the
// end. The dump is cut into parts of at most [PartSize] because a tar
// header states its entry's size up front: a part is the most a backup
// holds in memory, however big the database. Concatenated, the parts are
// the dump file; an operator can recover by hand with `age -d | tar x`,
// `sha256sum -c SHA256SUMS` and `cat database/part-* > db.dump`.
//
// age authenticates every 64 KiB chunk and marks the last, so a flipped
// byte or a truncated file fails decryption; the sums are checked as well,
// so an archive that decrypts is also whole and in order.
package backup

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"time"

	"filippo.io/age"
)

// Format is the archive format this code writes and the newest it reads.
const Format = 1

// PartSize is the largest database part: what a backup buffers.
const PartSize = 8 << 20

// Entry names of the archive.
const (
	ManifestName = "manifest.json"
	SumsName     = "SHA256SUMS"
	KeysDir      = "keys"
	DatabaseDir  = "database"
)

// Manifest describes an archive.
type Manifest struct {
	Format    int       `json:"format"`
	Kind      string    `json:"kind"`                // "inner" or "outer"
	Appliance int       `json:"appliance,omitempty"` // the inner's appliance_number
	Software  string    `json:"software_version"`
	Created   time.Time `json:"created"`
	// Schema is the database's migration version per owner (shared/pgdb),
	// so a restore refuses a database newer than its binary before it
	// touches anything.
	Schema map[string]int `json:"schema"`
}

// Writer writes an archive. Add entries with [Writer.AddFile] and
// [Writer.AddDatabase], then [Writer.Close].
type Writer struct {
	enc  io.WriteCloser
	tw   *tar.Writer
	sums []sum
	at   time.Time
}

type sum struct {
	name string
	hash []byte
}

// NewWriter starts an archive on dst encrypted to recipients, with m as
// its manifest (Format is set here).
func NewWriter(dst io.Writer, m Manifest, recipients ...age.Recipient) (*Writer, error) {
	if len(recipients) == 0 {
		return nil, errors.New("backup: no recipient to encrypt to")
	}
	enc, err := age.Encrypt(dst, recipients...)
	if err != nil {
		return nil, fmt.Errorf("backup: start encryption: %w", err)
	}
	w := &Writer{enc: enc, tw: tar.NewWriter(enc), at: m.Created.UTC().Truncate(time.Second)}
	m.Format = Format
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("backup: manifest: %w", err)
	}
	if err := w.add(ManifestName, 0o644, b); err != nil {
		return nil, err
	}
	return w, nil
}

// AddFile adds a key file (name without directory) of size bytes from r.
func (w *Writer) AddFile(name string, mode fs.FileMode, size int64, r io.Reader) error {
	if !validKeyName(name) {
		return fmt.Errorf("backup: key file name %q", name)
	}
	return w.copy(path.Join(KeysDir, name), mode, size, r)
}

// AddDatabase adds the dump read from r to its end, in parts of at most
// PartSize, and returns its length.
func (w *Writer) AddDatabase(r io.Reader) (int64, error) {
	buf := make([]byte, PartSize)
	var total int64
	for i := 0; ; i++ {
		n, err := io.ReadFull(r, buf)
		if n > 0 || i == 0 { // an empty dump is still one (empty) part
			if aerr := w.add(partName(i), 0o600, buf[:n]); aerr != nil {
				return total, aerr
			}
			total += int64(n)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("backup: read the database dump: %w", err)
		}
	}
}

func partName(i int) string { return fmt.Sprintf("%s/part-%06d", DatabaseDir, i) }

func (w *Writer) add(name string, mode fs.FileMode, b []byte) error {
	return w.copy(name, mode, int64(len(b)), bytes.NewReader(b))
}

func (w *Writer) copy(name string, mode fs.FileMode, size int64, r io.Reader) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(mode.Perm()), Size: size, ModTime: w.at, Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("backup: write %s: %w", name, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w.tw, h), io.LimitReader(r, size))
	if err != nil {
		return fmt.Errorf("backup: write %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("backup: %s: %d bytes read, %d expected (did it change while being read?)", name, n, size)
	}
	w.sums = append(w.sums, sum{name, h.Sum(nil)})
	return nil
}

// Close writes the sums, ends the tar stream and the encryption. The
// archive is complete only when Close returns nil.
func (w *Writer) Close() error {
	var b []byte
	for _, s := range w.sums {
		b = fmt.Appendf(b, "%x  %s\n", s.hash, s.name)
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: SumsName, Mode: 0o644, Size: int64(len(b)), ModTime: w.at, Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("backup: write %s: %w", SumsName, err)
	}
	if _, err := w.tw.Write(b); err != nil {
		return fmt.Errorf("backup: write %s: %w", SumsName, err)
	}
	if err := w.tw.Close(); err != nil {
		return fmt.Errorf("backup: end the archive: %w", err)
	}
	if err := w.enc.Close(); err != nil {
		return fmt.Errorf("backup: end the encryption: %w", err)
	}
	return nil
}

// validKeyName is a plain file name: no directory, not hidden.
func validKeyName(name string) bool {
	return name != "" && name == path.Base(name) && name[0] != '.' && len(name) <= 100
}
