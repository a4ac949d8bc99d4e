package web_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"

	"sealgate/shared/web"
)

// countingBody counts what the server reads of a request body.
type countingBody struct {
	r    io.Reader
	read *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read.Add(int64(n))
	return n, err
}

func (countingBody) Close() error { return nil }

// upload is a multipart form: fields in order, then a file of size bytes.
func upload(t *testing.T, size int, fields ...[2]string) (body []byte, contentType string, fileSum [32]byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	fw, _ := mw.CreateFormFile("file", "clip.mp4")
	file := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	fw.Write(file)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType(), sha256.Sum256(file)
}

// The token of an upload is checked before its body is read: a form whose
// first field is not the token is refused having read only its first
// bytes, and one whose first field is the token reaches the handler whole.
func TestUploadTokenIsCheckedBeforeTheBodyIsRead(t *testing.T) {
	e := echo.New()
	var got [32]byte
	handled := false
	e.POST("/trace", func(c echo.Context) error {
		handled = true
		fh, err := c.FormFile("file")
		if err != nil {
			return err
		}
		f, _ := fh.Open()
		defer f.Close()
		h := sha256.New()
		io.Copy(h, f)
		copy(got[:], h.Sum(nil))
		return c.String(http.StatusOK, c.FormValue("note"))
	}, web.CSRF)
	const token = "Vd9CqnWZ5rK8bq0xq7hJ0m3fS7dY2kR1tQ4pL6vA8cE" // 43 characters, as the cookie holds
	post := func(body []byte, ct string) (*httptest.ResponseRecorder, int64) {
		var read atomic.Int64
		req := httptest.NewRequest(http.MethodPost, "/trace", nil)
		req.Body = countingBody{bytes.NewReader(body), &read}
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", ct)
		req.AddCookie(&http.Cookie{Name: web.CSRFCookie, Value: token})
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec, read.Load()
	}

	const size = 8 << 20
	body, ct, sum := upload(t, size, [2]string{"note", "첫 필드가 토큰이 아님"}, [2]string{"_csrf", token})
	rec, read := post(body, ct)
	if rec.Code != http.StatusForbidden || handled {
		t.Fatalf("a token after another field: %d, handled %v", rec.Code, handled)
	}
	if read > 16<<10 {
		t.Errorf("refused after reading %d bytes of the upload; want its first few KiB only", read)
	}

	body, ct, _ = upload(t, size, [2]string{"_csrf", "wrong" + token[5:]})
	if rec, _ := post(body, ct); rec.Code != http.StatusForbidden || handled {
		t.Fatalf("a wrong token: %d, handled %v", rec.Code, handled)
	}

	body, ct, sum = upload(t, size, [2]string{"_csrf", token}, [2]string{"note", "ok"})
	rec, _ = post(body, ct)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != "ok" || got != sum {
		t.Fatalf("the token first: %d %q, file intact %v", rec.Code, rec.Body.String(), got == sum)
	}
}
