package web

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/labstack/echo/v4"
)

// CSRFCookie holds the CSRF token; the __Host- prefix makes browsers refuse
// it unless Secure, host-only and Path=/ (a sibling subdomain cannot plant one).
const CSRFCookie = "__Host-sealgate-csrf"

// CSRFKey is the echo context key of the token, for forms (<input name="_csrf">).
const CSRFKey = "csrf"

// CSRF requires on every state-changing request (not GET, HEAD, OPTIONS) a
// token equal to the one in the CSRF cookie, sent as the form field _csrf
// or the X-CSRF-Token header, and refuses requests a browser marks as
// cross-site. Echo's own middleware accepts same-origin requests without a
// token; this one never does, so even a script running on the page cannot
// post without reading the token from a form.
func CSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := ""
		if ck, err := c.Cookie(CSRFCookie); err == nil && len(ck.Value) == 43 {
			token = ck.Value
		} else {
			b := make([]byte, 32)
			rand.Read(b)
			token = base64.RawURLEncoding.EncodeToString(b)
			c.SetCookie(&http.Cookie{Name: CSRFCookie, Value: token, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		}
		c.Set(CSRFKey, token)
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if site := c.Request().Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
			return echo.NewHTTPError(http.StatusForbidden, "cross-site request refused")
		}
		sent := c.Request().Header.Get("X-CSRF-Token")
		if sent == "" {
			var err error
			if sent, err = formToken(c.Request()); err != nil {
				return echo.NewHTTPError(http.StatusForbidden, err.Error())
			}
		}
		if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
			return echo.NewHTTPError(http.StatusForbidden, "CSRF token missing or invalid")
		}
		return next(c)
	}
}

// multipartPeek is how much of a multipart body is looked at for the
// token: the form's first field, which our forms make it.
const multipartPeek = 4 << 10

// formToken reads the _csrf field. A multipart body (an upload) is not
// parsed for it: that would spool every file to disk before the token is
// checked. Its first part must be the token, read from the body's first
// bytes, which stay in the body for the handler.
func formToken(r *http.Request) (string, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return r.FormValue("_csrf"), nil
	}
	br := bufio.NewReaderSize(r.Body, multipartPeek)
	r.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	head, _ := br.Peek(multipartPeek) // a shorter body is all there is; an error shows in NextPart
	part, err := multipart.NewReader(bytes.NewReader(head), params["boundary"]).NextPart()
	if err != nil || part.FormName() != "_csrf" {
		return "", errors.New("CSRF token missing: it must be the upload form's first field (or the X-CSRF-Token header)")
	}
	b, err := io.ReadAll(io.LimitReader(part, 64))
	if err != nil {
		return "", errors.New("CSRF token unreadable")
	}
	return string(b), nil
}
