package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serve runs h behind Serve with the deadlines lowered to d, and returns
// its address.
func serveWithDeadlines(t *testing.T, d time.Duration, h http.Handler) string {
	t.Helper()
	readTimeout, writeTimeout, transferBase = d, d, 4*d
	t.Cleanup(func() { readTimeout, writeTimeout, transferBase = ReadTimeout, WriteTimeout, time.Minute })
	lns, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, lns[0], h, nil, time.Second, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() { cancel(); <-done })
	return lns[0].Addr().String()
}

// A client that starts a request and stops sending is let go at the read
// deadline; one sending a large body slowly, on a route that allows it,
// is not; a live stream outlives the write deadline while its client reads.
func TestSlowClientsAreLetGo(t *testing.T) {
	const d = 300 * time.Millisecond
	mux := http.NewServeMux()
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		fmt.Fprintf(w, "%d", len(b))
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		AllowUpload(w, r.ContentLength)
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
			return
		}
		fmt.Fprintf(w, "%d", len(b))
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		for i := range 6 {
			KeepStreaming(w)
			if _, err := fmt.Fprintf(w, "data: %d\n\n", i); err != nil {
				return
			}
			http.NewResponseController(w).Flush()
			time.Sleep(d / 2)
		}
	})
	addr := serveWithDeadlines(t, d, mux)

	// slowPost sends the headers, then the body in pieces with pauses.
	slowPost := func(path string, pieces int, pause time.Duration) (string, error) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", path, pieces)
		for range pieces {
			time.Sleep(pause)
			if _, err := c.Write([]byte("x")); err != nil {
				return "", err
			}
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if got, err := slowPost("/form", 4, d); err == nil && got == "4" {
		t.Errorf("a form body trickling in for %v past the %v read deadline was taken whole", 4*d, d)
	}
	if got, err := slowPost("/upload", 4, d/2); err != nil || got != "4" {
		t.Errorf("an upload within its extended deadline: %q, %v", got, err)
	}

	start := time.Now()
	resp, err := http.Get("http://" + addr + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if n := strings.Count(string(b), "data:"); n != 6 {
		t.Errorf("a stream kept alive for %v got %d of 6 events", time.Since(start), n)
	}
}
