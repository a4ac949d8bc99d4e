package console

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"
)

// formFile is the upload in field name, or the page's reason it is not
// there: too large (413) or missing (400, key).
func formFile(c echo.Context, name, missingKey string) (*multipart.FileHeader, int, string) {
	fh, err := c.FormFile(name)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, "error.too_large"
		}
		return nil, http.StatusBadRequest, missingKey
	}
	return fh, 0, ""
}

// saveUpload copies an upload into f, a new private file, syncs and
// closes it, and returns the upload's SHA-256. On failure it removes f:
// nothing half written is left behind.
func saveUpload(fh *multipart.FileHeader, f *os.File) (string, error) {
	sum, err := copyUpload(fh, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("saving the upload: %w", err)
	}
	return sum, nil
}

func copyUpload(fh *multipart.FileHeader, f *os.File) (string, error) {
	src, err := fh.Open()
	if err != nil {
		return "", err
	}
	defer src.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), src); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
