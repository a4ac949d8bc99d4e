package web

import (
	"net/http"
	"time"
)

// Slow clients: a request must arrive, and its answer be taken, within
// these (http.Server's ReadTimeout and WriteTimeout); an idle keep-alive
// connection is closed after IdleTimeout. The few requests that carry a
// large body (an upload, a download, a live stream) extend their own
// deadlines below, so a client that stops reading or sending is still
// let go.
const (
	ReadTimeout  = time.Minute
	WriteTimeout = time.Minute
	IdleTimeout  = 2 * time.Minute
)

// The deadlines in force: the constants, lowered by this package's tests.
var (
	readTimeout, writeTimeout = ReadTimeout, WriteTimeout
	transferBase              = time.Minute
)

// MinRate is the slowest, in bytes a second, a large body may flow:
// a control center's LAN or a police VPN does far better.
const MinRate = 128 << 10

// transferTime is how long n bytes may take at MinRate, beside the
// ordinary deadline.
func transferTime(n int64) time.Duration {
	return transferBase + time.Duration(n/MinRate)*time.Second
}

// AllowUpload gives a request whose body is n bytes the time it needs to
// arrive at MinRate, and its answer as long (the write deadline runs from
// the request's headers). A writer that cannot take deadlines (a test
// recorder) is left as it is.
func AllowUpload(w http.ResponseWriter, n int64) {
	rc, until := http.NewResponseController(w), time.Now().Add(transferTime(n))
	_ = rc.SetReadDeadline(until)
	_ = rc.SetWriteDeadline(until.Add(writeTimeout))
}

// AllowDownload gives an answer of n bytes the time it needs to leave at
// MinRate.
func AllowDownload(w http.ResponseWriter, n int64) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(transferTime(n)))
}

// KeepStreaming gives a long-lived stream (server-sent events) another
// WriteTimeout before each write: it lives as long as its client reads.
func KeepStreaming(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeTimeout))
}
