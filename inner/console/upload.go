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

// saveUpload copies an upload into path, a new private file (0600) that
// must not exist, and returns the upload's SHA-256. On failure nothing is
// left at path.
func saveUpload(fh *multipart.FileHeader, path string) (string, error) {
	src, err := fh.Open()
	if err != nil {
		return "", fmt.Errorf("reading the upload: %w", err)
	}
	defer src.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("saving the upload: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), src)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("saving the upload: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
