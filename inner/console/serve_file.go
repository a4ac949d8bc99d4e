package console

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"sealgate/shared/web"
)

// served is what one request for a file got: the bytes from First on
// (Range), how many, of a file of Size.
type served struct {
	Status       int
	First, Bytes int64
	Size         int64
}

// ToEnd says the request received the file through its last byte.
func (s served) ToEnd() bool {
	return s.Status/100 == 2 && s.Size > 0 && s.First+s.Bytes == s.Size
}

func (s served) String() string {
	return fmt.Sprintf("bytes %d-%d of %d (HTTP %d)", s.First, s.First+s.Bytes-1, s.Size, s.Status)
}

// serveFile streams path with Range support (a broken download resumes;
// a player seeks) in constant memory, as name, and says what was sent.
func serveFile(e echo.Context, path, name, contentType string) (served, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return served{}, echo.ErrNotFound
	}
	if err != nil {
		return served{}, fmt.Errorf("console: open %s: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return served{}, fmt.Errorf("console: %s: %w", name, err)
	}
	h := e.Response().Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if contentType == "application/octet-stream" {
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	}
	web.AllowDownload(e.Response(), st.Size())
	w := &web.CountingWriter{ResponseWriter: e.Response().Writer}
	http.ServeContent(w, e.Request(), name, st.ModTime(), f)
	return served{Status: w.Status, First: rangeStart(e.Request(), w.Status), Bytes: w.Written, Size: st.Size()}, nil
}

// rangeStart is where a 206 answer to a single "bytes=N-…" range began
// (0 for a whole-file answer; -1 for a form not followed, which never
// counts as reaching the end).
func rangeStart(r *http.Request, status int) int64 {
	if status != http.StatusPartialContent {
		return 0
	}
	spec, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes=")
	first, _, ok2 := strings.Cut(spec, "-")
	if !ok || !ok2 || strings.Contains(spec, ",") {
		return -1 << 62
	}
	n, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return -1 << 62
	}
	return n
}
