package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"filippo.io/age"
)

// Errors of [Extract]; each is wrapped with its cause.
var (
	// ErrWrongKey: none of the identities or passphrases given opens the archive.
	ErrWrongKey = errors.New("backup: the identity or passphrase given does not open this archive")
	// ErrNotArchive: the input is not an age file.
	ErrNotArchive = errors.New("backup: not an encrypted sealgate backup")
	// ErrDamaged: the archive was altered, truncated or is not laid out as
	// this package writes it.
	ErrDamaged = errors.New("backup: the archive is damaged or incomplete")
	// ErrNewerFormat: a newer release wrote the archive.
	ErrNewerFormat = errors.New("backup: the archive's format is newer than this release reads")
)

// Limits on the small entries, so a bad archive cannot fill the disk
// before it is found out.
const (
	maxManifest = 64 << 10
	maxKeyFile  = 1 << 20
	maxSums     = 64 << 20
)

// KeyFile is a key file unpacked from an archive.
type KeyFile struct {
	Name string
	Mode fs.FileMode
	Size int64
}

// Contents is what [Extract] unpacked.
type Contents struct {
	Manifest Manifest
	KeyDir   string // dir/keys, mode 0700
	Keys     []KeyFile
	Dump     string // dir/database.dump, pg_restore's input
	DumpSize int64
	Entries  int // tar entries, manifest and sums included
}

// Extract decrypts src with ids and unpacks it into dir, which must be an
// empty directory only the caller can read: the key files into dir/keys,
// the database parts joined into dir/database.dump. check, if set, sees
// the manifest before anything else is read and may refuse it. Extract
// returns only once every byte was authenticated and every entry matched
// its sum; the caller must not use dir's files otherwise.
func Extract(src io.Reader, dir string, check func(Manifest) error, ids ...age.Identity) (*Contents, error) {
	br := bufio.NewReader(src)
	magic, _ := br.Peek(len(ageMagic))
	plain, err := age.Decrypt(br, ids...)
	if err != nil {
		var nomatch *age.NoIdentityMatchError
		switch {
		case errors.As(err, &nomatch) || errors.Is(err, age.ErrIncorrectIdentity):
			return nil, fmt.Errorf("%w: %w", ErrWrongKey, err)
		case string(magic) == ageMagic: // an age file, cut or altered in its header
			return nil, fmt.Errorf("%w: %w", ErrDamaged, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrNotArchive, err)
	}
	x := &extractor{tr: tar.NewReader(plain), dir: dir}
	c, err := x.run(check)
	if err != nil {
		return nil, err
	}
	// The tar end marker can come before age's last chunk: read that too,
	// or a cut after the marker would pass unauthenticated.
	if n, err := io.Copy(io.Discard, plain); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDamaged, err)
	} else if n > 10240 {
		return nil, fmt.Errorf("%w: %d bytes after the end of the archive", ErrDamaged, n)
	}
	return c, nil
}

// ageMagic starts every age file (age-encryption.org/v1).
const ageMagic = "age-encryption.org/v1\n"

type extractor struct {
	tr   *tar.Reader
	dir  string
	sums bytes.Buffer // what SHA256SUMS must say, in order
}

func (x *extractor) run(check func(Manifest) error) (*Contents, error) {
	c := &Contents{KeyDir: filepath.Join(x.dir, KeysDir), Dump: filepath.Join(x.dir, "database.dump")}
	hdr, err := x.next()
	if err != nil {
		return nil, err
	}
	if hdr.Name != ManifestName {
		return nil, fmt.Errorf("%w: first entry %q, not %s", ErrDamaged, hdr.Name, ManifestName)
	}
	b, err := x.read(hdr, maxManifest)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &c.Manifest); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrDamaged, ManifestName, err)
	}
	switch m := c.Manifest; {
	case m.Format > Format:
		return nil, fmt.Errorf("%w: format %d, this release (%d) reads up to %d: restore with the release that made it (%s) or newer", ErrNewerFormat, m.Format, Format, Format, m.Software)
	case m.Format < 1 || (m.Kind != "inner" && m.Kind != "outer"):
		return nil, fmt.Errorf("%w: manifest format %d, kind %q", ErrDamaged, m.Format, m.Kind)
	}
	if check != nil {
		if err := check(c.Manifest); err != nil {
			return nil, err
		}
	}
	if err := os.Mkdir(c.KeyDir, 0o700); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	dump, err := os.OpenFile(c.Dump, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer dump.Close()
	parts := 0
	for {
		hdr, err := x.next()
		if err != nil {
			return nil, err
		}
		c.Entries++
		dirName, name := path.Split(hdr.Name)
		switch {
		case hdr.Name == SumsName:
			if parts == 0 {
				return nil, fmt.Errorf("%w: no database in the archive", ErrDamaged)
			}
			if err := x.checkSums(hdr); err != nil {
				return nil, err
			}
			if _, err := x.tr.Next(); err != io.EOF {
				return nil, fmt.Errorf("%w: entries after %s (%v)", ErrDamaged, SumsName, err)
			}
			if err := dump.Sync(); err != nil {
				return nil, fmt.Errorf("backup: %w", err)
			}
			c.Entries += 1 // the manifest
			return c, dump.Close()
		case dirName == KeysDir+"/" && parts == 0 && validKeyName(name):
			f := KeyFile{Name: name, Mode: fs.FileMode(hdr.Mode).Perm() & 0o644, Size: hdr.Size}
			b, err := x.read(hdr, maxKeyFile)
			if err != nil {
				return nil, err
			}
			// O_EXCL: a name twice is refused here.
			if err := writeNew(filepath.Join(c.KeyDir, name), b, f.Mode); err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrDamaged, hdr.Name, err)
			}
			c.Keys = append(c.Keys, f)
		case hdr.Name == partName(parts):
			n, err := x.copy(hdr, dump)
			if err != nil {
				return nil, err
			}
			c.DumpSize += n
			parts++
		default:
			return nil, fmt.Errorf("%w: unexpected entry %q", ErrDamaged, hdr.Name)
		}
	}
}

// next reads the next header, which must be a regular file's.
func (x *extractor) next() (*tar.Header, error) {
	hdr, err := x.tr.Next()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("%w: %q is not a regular file", ErrDamaged, hdr.Name)
	}
	return hdr, nil
}

// read returns a small entry whole, hashed.
func (x *extractor) read(hdr *tar.Header, limit int64) ([]byte, error) {
	if hdr.Size > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes", ErrDamaged, hdr.Name, hdr.Size)
	}
	var b bytes.Buffer
	if _, err := x.copy(hdr, &b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// copy writes the entry to w and notes its sum.
func (x *extractor) copy(hdr *tar.Header, w io.Writer) (int64, error) {
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), x.tr)
	if err != nil {
		return n, fmt.Errorf("%w: %s: %w", ErrDamaged, hdr.Name, err)
	}
	fmt.Fprintf(&x.sums, "%x  %s\n", h.Sum(nil), hdr.Name)
	return n, nil
}

// checkSums compares SHA256SUMS with the entries as read: same names,
// same order, same hashes.
func (x *extractor) checkSums(hdr *tar.Header) error {
	if hdr.Size > maxSums {
		return fmt.Errorf("%w: %s is %d bytes", ErrDamaged, SumsName, hdr.Size)
	}
	got, err := io.ReadAll(x.tr)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrDamaged, SumsName, err)
	}
	if !bytes.Equal(got, x.sums.Bytes()) {
		want := strings.Split(x.sums.String(), "\n")
		for i, line := range strings.Split(string(got), "\n") {
			if i >= len(want) || line != want[i] {
				return fmt.Errorf("%w: %s says %q, the archive has %q", ErrDamaged, SumsName, line, at(want, i))
			}
		}
		return fmt.Errorf("%w: %s lists fewer entries than the archive has", ErrDamaged, SumsName)
	}
	return nil
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

func writeNew(name string, b []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil { // the umask may have narrowed 0644
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
