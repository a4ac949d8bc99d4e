package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"sealgate/shared/metrics"
)

// With a token, only a scrape that sends it gets the metrics.
func TestBearerTokenGuardsTheMetrics(t *testing.T) {
	const token = "k3v9-0rQ_mJ2xW7bT5nH8cL1aF4dS6gE"
	srv := httptest.NewServer(metrics.Handler(metrics.NewRegistry("inner"), token))
	defer srv.Close()
	scrape := func(auth string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for auth, want := range map[string]int{
		"":                               http.StatusUnauthorized,
		"Bearer " + token[:len(token)-1]: http.StatusUnauthorized,
		"Bearer " + token + "x":          http.StatusUnauthorized,
		"Basic " + token:                 http.StatusUnauthorized,
		"Bearer " + token:                http.StatusOK,
	} {
		if got := scrape(auth); got != want {
			t.Errorf("Authorization %q: %d, want %d", strings.ReplaceAll(auth, token, "TOKEN"), got, want)
		}
	}
	open := httptest.NewServer(metrics.Handler(metrics.NewRegistry("inner"), ""))
	defer open.Close()
	resp, err := http.Get(open.URL + "/metrics")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("without a token configured: %v %v", resp, err)
	}
	resp.Body.Close()
}
