package portal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"sealgate/outer/pkgstore"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/web"
)

// packageDownload serves the sealed package file to the officer it is
// addressed to (a contract, docs/portal.md: 404 to anyone else, 410 once destroyed),
// with Range and If-Range so a broken download resumes, streamed from the
// open file in constant memory. Every request, refused or not, is audited
// once, and the entry is committed before the first byte leaves: a
// download the audit log cannot record does not happen. A download under
// way when the package is revoked finishes (the open file outlives its
// name); the next request gets 410.
func (p *Portal) packageDownload(c echo.Context) error {
	ctx, now := c.Request().Context(), p.now()
	me, id := accountui.Session(c).User.Username, c.Param("id")
	asked := "whole"
	if r := c.Request().Header.Get("Range"); r != "" {
		asked = "range " + clip(r, 200)
	}
	entry := audit.Entry{Actor: me, Action: "package.download", Target: clip(id, 100), Remote: c.RealIP()}
	refuse := func(result, why string) error {
		p.metrics.downloads.WithLabelValues(result).Inc()
		entry.Outcome, entry.Detail = audit.Denied, why+"; "+asked
		return p.cfg.Audit.Append(ctx, entry)
	}
	pk, err := p.cfg.Store.ForRecipient(ctx, me, id, now)
	switch {
	case errors.Is(err, pkgstore.ErrNotFound):
		if err := refuse("refused", "not addressed to this officer, not in its window yet, or no such package"); err != nil {
			return err
		}
		return echo.NewHTTPError(http.StatusNotFound, "packages.not_found")
	case errors.Is(err, pkgstore.ErrDestroyed):
		if err := refuse("gone", "destroyed or expired"); err != nil {
			return err
		}
		return p.gone(c, pk)
	case err != nil:
		p.metrics.downloads.WithLabelValues("failed").Inc()
		return err
	}
	f, err := os.Open(pk.Path)
	if errors.Is(err, fs.ErrNotExist) { // destroyed since the check
		if err := refuse("gone", "destroyed while asked for"); err != nil {
			return err
		}
		if pk, err = p.cfg.Store.Get(ctx, pk.ID); err != nil {
			return err
		}
		return p.gone(c, pk)
	}
	if err != nil {
		p.metrics.downloads.WithLabelValues("failed").Inc()
		return fmt.Errorf("portal: open package %s: %w", pk.ID, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		p.metrics.downloads.WithLabelValues("failed").Inc()
		return fmt.Errorf("portal: package %s: %w", pk.ID, err)
	}
	entry.Target, entry.Outcome, entry.Detail = pk.ID, audit.OK, fmt.Sprintf("export %s, %s of %d bytes", pk.ExportCode, asked, st.Size())
	if err := p.cfg.Audit.Append(ctx, entry); err != nil {
		p.metrics.downloads.WithLabelValues("failed").Inc()
		return err
	}

	name := downloadName(pk)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/octet-stream")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+pk.ID+`"`) // the file is named by its SHA-256: a strong validator for If-Range
	web.AllowDownload(c.Response(), st.Size())
	w := &web.CountingWriter{ResponseWriter: c.Response()}
	http.ServeContent(w, c.Request(), name, st.ModTime(), f)
	p.metrics.bytes.Add(float64(w.Written))
	p.metrics.downloads.WithLabelValues(result(w.Status)).Inc()
	if firstByte(c.Request(), w.Status) {
		// Counted even when the officer's end hung up: the ledger's
		// downloads are those begun (docs/portal.md, "Download").
		if err := p.cfg.Store.Downloaded(context.WithoutCancel(ctx), pk.ID, now); err != nil {
			p.cfg.Log.Error("count a download", slog.String("package", pk.ID), slog.Any("error", err))
		}
	}
	return nil
}

// firstByte says a served request began a download: the whole file, or a
// range from byte 0. A resumed download's later ranges are the same one.
func firstByte(r *http.Request, status int) bool {
	if r.Method != http.MethodGet {
		return false
	}
	return status == http.StatusOK ||
		status == http.StatusPartialContent && strings.HasPrefix(strings.TrimSpace(r.Header.Get("Range")), "bytes=0-")
}

// result names a served request for the downloads metric.
func result(status int) string {
	switch {
	case status == http.StatusOK:
		return "whole"
	case status == http.StatusPartialContent:
		return "range"
	case status == http.StatusRequestedRangeNotSatisfiable:
		return "bad_range"
	case status == http.StatusNotModified, status == http.StatusPreconditionFailed:
		return "not_modified"
	}
	return "failed"
}

// safeName keeps what every browser and file system accepts in a name.
var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// downloadName is the export code + .sgpkg when that is a safe name, else
// the package's id: nothing from the manifest reaches the header unchecked.
func downloadName(pk *pkgstore.Package) string {
	if safeName.MatchString(pk.ExportCode) {
		return pk.ExportCode + ".sgpkg"
	}
	return pk.ID + ".sgpkg"
}

// clip cuts s to n bytes for the audit log, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
