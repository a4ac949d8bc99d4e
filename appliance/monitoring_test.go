package appliance_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"sealgate/appliance/daemon"
	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/appliance/outerd"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgdb/pgtest"
)

// TestMonitoringUsesExportedMetrics runs a paired inner and outer and
// checks that every metric the alert rules and the Grafana dashboards in
// configs/ query is exported by one of them, with the label values their
// equality matchers name (docs/monitoring.md): a renamed metric or a
// mistyped one would otherwise leave a panel empty and an alert silent.
func TestMonitoringUsesExportedMetrics(t *testing.T) {
	dir := daemontest.DataDir(t)
	innerKeys, outerKeys := filepath.Join(dir, "inner-keys"), filepath.Join(dir, "outer-keys")
	if err := keys.InitInner(innerKeys); err != nil {
		t.Fatal(err)
	}
	if err := keys.InitOuter(outerKeys); err != nil {
		t.Fatal(err)
	}
	ik, _ := keys.LoadInner(innerKeys)
	ok, _ := keys.LoadOuter(outerKeys)
	innerConf, outerConf := pairedConfigs(t, dir, ik, ok, "")
	icfg, err := config.LoadInner(innerConf, []string{config.InnerEnvPrefix + "DATABASE_URL=" + pgtest.NewDatabase(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	ocfg, err := config.LoadOuter(outerConf, []string{config.OuterEnvPrefix + "DATABASE_URL=" + pgtest.NewDatabase(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	outer := daemontest.Start(t, func(ctx context.Context, s func(daemon.Addrs)) error {
		return outerd.Serve(ctx, ocfg, io.Discard, quiet, s)
	})
	inner := daemontest.Start(t, func(ctx context.Context, s func(daemon.Addrs)) error {
		return innerd.Serve(ctx, icfg, io.Discard, quiet, s)
	})

	// The per-peer contact series appears once the inner's first
	// connection is in; the audit gauge once the first walk is done.
	var series []string
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		om, im := outer.Metrics(t), inner.Metrics(t)
		if strings.Contains(om, `sealgate_receive_last_contact_timestamp_seconds{peer="city-hall"}`) &&
			strings.Contains(om, "sealgate_audit_chain_intact 1") && strings.Contains(im, "sealgate_audit_chain_intact 1") {
			series = append(samples(om), samples(im)...)
			break
		}
		if time.Now().After(end) {
			t.Fatalf("no contact of the inner or no audit walk within 30 s:\n%s", grepLines(om, "sealgate_receive_last|sealgate_audit"))
		}
	}
	// A fresh, healthy pair reads as healthy: the figures from the
	// database were read (not -1) and say nothing is wrong.
	for _, want := range []string{"sealgate_account_locked_users 0", "sealgate_expiry_overdue_packages 0", `sealgate_keys_file_unsafe{file="signing.key"} 0`,
		`sealgate_keys_file_unsafe{file="license.key"} 0`, `sealgate_pipeline_jobs{state="available"} 0`, `sealgate_pipeline_stages{stage="render",state="failed"} 0`,
		"sealgate_outbox_depth 0"} {
		if !slices.Contains(series, want) {
			t.Errorf("a healthy pair does not report %s", want)
		}
	}
	for _, s := range series {
		if strings.HasPrefix(s, "sealgate_disk_free_bytes{") && strings.HasSuffix(s, " -1") {
			t.Errorf("free space unknown: %s", s)
		}
		if s == `sealgate_receive_connections{peer="city-hall"} 0` {
			t.Error("the outer counts no connection of the inner it has heard from")
		}
	}
	// up is Prometheus' own series of each scrape, not a daemon's.
	names := map[string]bool{"up": true}
	for _, s := range series {
		names[metricName(s)] = true
	}
	if os.Getenv("SEALGATE_LIST_METRICS") != "" { // for docs/monitoring.md's list: name, type, help
		seen := map[string]bool{}
		var ns []string
		for _, scrape := range []string{outer.Metrics(t), inner.Metrics(t)} {
			for _, l := range strings.Split(scrape, "\n") {
				if h, ok := strings.CutPrefix(l, "# HELP sealgate_"); ok && !seen[h] {
					seen[h] = true
					ns = append(ns, "sealgate_"+h)
				}
			}
		}
		slices.Sort(ns)
		t.Logf("exported:\n%s", strings.Join(ns, "\n"))
	}
	exprs := ruleExprs(t, "../configs/prometheus/sealgate-rules.yml")
	dashboards, _ := filepath.Glob("../configs/grafana/*.json")
	if len(dashboards) == 0 || len(exprs) == 0 {
		t.Fatalf("no dashboards (%d) or alert rules (%d) in configs/", len(dashboards), len(exprs))
	}
	for _, d := range dashboards {
		exprs = append(exprs, dashboardExprs(t, d)...)
	}
	checked := map[string]bool{}
	for _, e := range exprs {
		used, matchers := promqlNames(e.expr)
		if len(used) == 0 && !strings.Contains(e.expr, "vector(") {
			t.Errorf("%s: no metric found in %q", e.where, e.expr)
		}
		for _, n := range used {
			checked[n] = true
			if !names[n] {
				t.Errorf("%s: %s is exported by neither daemon (in %q)", e.where, n, e.expr)
			}
		}
		for _, m := range matchers {
			want := m.label + `="` + m.value + `"`
			if !slices.ContainsFunc(series, func(s string) bool { return metricName(s) == m.metric && strings.Contains(s, want) }) {
				t.Errorf("%s: no series %s{%s} exported (in %q)", e.where, m.metric, want, e.expr)
			}
		}
	}
	t.Logf("%d expressions, %d metric names checked against %d series", len(exprs), len(checked), len(series))
}

type located struct{ where, expr string }

// ruleExprs reads the alert rules' expressions.
func ruleExprs(t *testing.T, path string) []located {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string
			Rules []struct{ Alert, Record, Expr string }
		}
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []located
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out = append(out, located{filepath.Base(path) + ": " + r.Alert + r.Record, r.Expr})
		}
	}
	return out
}

// dashboardExprs reads each panel's targets and the template variables'
// label_values queries of a dashboard.
func dashboardExprs(t *testing.T, path string) []located {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct {
				Name  string
				Type  string
				Query any
			}
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []located
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, located{filepath.Base(path) + ": " + p.Title, tg.Expr})
		}
	}
	for _, v := range d.Templating.List {
		q, _ := v.Query.(string)
		if m, ok := v.Query.(map[string]any); ok {
			q, _ = m["query"].(string)
		}
		if v.Type != "query" {
			continue
		}
		// label_values(metric, label): the metric is checked, the label is not a metric.
		if inner, ok := strings.CutPrefix(q, "label_values("); ok {
			q, _, _ = strings.Cut(inner, ",")
		}
		out = append(out, located{filepath.Base(path) + ": $" + v.Name, q})
	}
	return out
}

// samples are the sample lines of a scrape in the text format.
func samples(scrape string) []string {
	var out []string
	for _, l := range strings.Split(scrape, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func metricName(sample string) string {
	end := strings.IndexAny(sample, "{ ")
	if end < 0 {
		return sample
	}
	return sample[:end]
}

func grepLines(s, prefixes string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, p := range strings.Split(prefixes, "|") {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}
