// Package metrics builds each daemon's Prometheus registry and handler.
//
// Packages register their own collectors (one metrics.go per package,
// Namespace "sealgate", Subsystem the package) on the registry they are
// given, never on a global, so both daemons can run in one test process.
package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sealgate/shared/buildinfo"
)

// Namespace prefixes every Sealgate metric.
const Namespace = "sealgate"

// NewRegistry returns a registry with the Go runtime, process and module
// build collectors, and sealgate_build_info{daemon,version,goversion} = 1.
func NewRegistry(daemon string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace:   Namespace,
			Name:        "build_info",
			Help:        "Sealgate release of this daemon; always 1.",
			ConstLabels: prometheus.Labels{"daemon": daemon, "version": buildinfo.Version, "goversion": buildinfo.GoVersion()},
		}, func() float64 { return 1 }),
	)
	return reg
}

// Handler serves reg in the Prometheus text format at /metrics, on the
// metrics listener only (kept off the console/portal address). With a
// token, a scrape without "Authorization: Bearer <token>" gets 401.
func Handler(reg *prometheus.Registry, token string) http.Handler {
	mux := http.NewServeMux()
	var h http.Handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, EnableOpenMetrics: false})
	if token != "" {
		h = bearer(token, h)
	}
	mux.Handle("GET /metrics", h)
	return mux
}

func bearer(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		got := sha256.Sum256([]byte(sent)) // equal lengths: the compare is constant-time over the token's length too
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sealgate metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
