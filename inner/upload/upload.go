// Package upload keeps resumable uploads: a browser sends a multi-GB clip
// in chunks, each at the offset the server says it has, so a broken
// connection resumes where it stopped instead of starting over. Parts are
// files under Dir/<user>/, so one user can neither see nor append to
// another's; nothing of an upload is held in memory.
package upload

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// Store keeps the uploads in progress.
type Store struct {
	dir   string
	limit int64 // the largest whole upload
}

// ErrOffset: a chunk sent for an offset other than what the server holds;
// the client asks for the offset and resends from there.
var ErrOffset = errors.New("upload: the chunk does not start where the upload stands")

// ErrTooLarge: the upload would exceed the limit; it is removed.
var ErrTooLarge = errors.New("upload: larger than the limit")

// ErrUnknown: no such upload for this user (finished, expired, or never).
var ErrUnknown = errors.New("upload: no such upload")

var idRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// New returns the store under dir (which must be on the same file system
// as where finished uploads are kept, so adopting one is a rename).
func New(dir string, limit int64) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	return &Store{dir: dir, limit: limit}, nil
}

func (s *Store) path(user, id string) (string, error) {
	if !idRE.MatchString(id) || user == "" || filepath.Base(user) != user || user[0] == '.' {
		return "", ErrUnknown
	}
	return filepath.Join(s.dir, user, id+".part"), nil
}

// Create starts an empty upload for user and returns its id.
func (s *Store) Create(user string) (string, error) {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	p, err := s.path(user, id)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	return id, f.Close()
}

// Offset is how many bytes of the upload the server holds.
func (s *Store) Offset(user, id string) (int64, error) {
	p, err := s.path(user, id)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0, ErrUnknown
	}
	return fi.Size(), nil
}

// Append writes r at offset, which must be where the upload stands, and
// returns the new offset. What arrived before a broken connection is kept
// (synced), so the client resumes from the offset it is told.
func (s *Store) Append(user, id string, offset int64, r io.Reader) (int64, error) {
	p, err := s.path(user, id)
	if err != nil {
		return 0, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return 0, ErrUnknown
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("upload: %w", err)
	}
	if size != offset {
		return size, ErrOffset
	}
	n, cerr := io.Copy(f, io.LimitReader(r, s.limit-size+1))
	if size+n > s.limit {
		f.Close()
		os.Remove(p)
		return 0, ErrTooLarge
	}
	if err := f.Sync(); err != nil {
		return size, fmt.Errorf("upload: %w", err)
	}
	if cerr != nil {
		return size + n, fmt.Errorf("upload: the connection broke at %d bytes: %w", size+n, cerr)
	}
	return size + n, nil
}

// Path is the file of a whole upload, for the owner of the upload to
// adopt (rename) or remove.
func (s *Store) Path(user, id string) (string, error) {
	p, err := s.path(user, id)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", ErrUnknown
	}
	return p, nil
}

// Expire removes uploads untouched for longer than age: footage someone
// began to send and abandoned is not kept.
func (s *Store) Expire(age time.Duration) (int, error) {
	parts, err := filepath.Glob(filepath.Join(s.dir, "*", "*.part"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range parts {
		if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) > age {
			if os.Remove(p) == nil {
				n++
			}
		}
	}
	return n, nil
}
