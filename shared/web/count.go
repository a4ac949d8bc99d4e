package web

import "net/http"

// CountingWriter records the status and counts the body bytes written
// through it (http.ServeContent's, for the audit and the metrics of a
// download).
type CountingWriter struct {
	http.ResponseWriter
	Status  int
	Written int64
}

// WriteHeader records the status.
func (w *CountingWriter) WriteHeader(code int) {
	w.Status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *CountingWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.Written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection underneath
// (write deadlines for long downloads).
func (w *CountingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
