// Package configs_test checks the monitoring configuration shipped in
// configs/ (docs/monitoring.md): the Prometheus rules with promtool, and
// the Grafana dashboards' structure and PromQL. That their metrics exist
// is checked against running daemons in appliance/monitoring_test.go.
package configs_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const (
	rulesFile     = "prometheus/sealgate-rules.yml"
	rulesTestFile = "prometheus/sealgate-rules.test.yml"
)

// promtool is Debian's, from the prometheus package (DEB_PACKAGES).
func promtool(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is needed to check the alert rules: %v (install Debian's prometheus package: `make deps`)", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = "prometheus"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

type rule struct {
	Alert, Expr, For string
	Labels           map[string]string
	Annotations      map[string]string
}

func readRules(t *testing.T) []rule {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Groups []struct{ Rules []rule } }
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// TestAlertRules: promtool accepts the rules and their unit tests pass;
// every alert has a severity, says what to do, is unit-tested and is in
// docs/monitoring.md.
func TestAlertRules(t *testing.T) {
	promtool(t, "check", "rules", filepath.Base(rulesFile))
	promtool(t, "test", "rules", filepath.Base(rulesTestFile))

	tests, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/monitoring.md")
	if err != nil {
		t.Fatal(err)
	}
	rules := readRules(t)
	if len(rules) == 0 {
		t.Fatal("no rules")
	}
	for _, r := range rules {
		if r.Alert == "" {
			continue
		}
		if !slices.Contains([]string{"critical", "warning", "info"}, r.Labels["severity"]) {
			t.Errorf("%s: severity %q, want critical, warning or info", r.Alert, r.Labels["severity"])
		}
		for _, a := range []string{"summary", "description", "runbook"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("%s: no %s annotation", r.Alert, a)
			}
		}
		// Fires and stays silent: a test of the alert that expects it, and
		// the strict match of promtool lets no other series alert.
		if !regexp.MustCompile(`alertname: ` + r.Alert + `\n\s+exp_alerts:\n\s+- exp_labels`).Match(tests) {
			t.Errorf("%s: no unit test in %s expects it to fire", r.Alert, rulesTestFile)
		}
		if !strings.Contains(string(doc), "`"+r.Alert+"`") {
			t.Errorf("%s: not in docs/monitoring.md", r.Alert)
		}
	}
}

type datasource struct{ Type, UID string }

type panel struct {
	ID         *int
	Type       string
	Title      string
	Datasource *datasource
	GridPos    *struct{ X, Y, W, H int }
	Targets    []struct {
		RefID      string
		Expr       string
		Datasource *datasource
	}
	Panels []json.RawMessage // a row's collapsed panels
}

type dashboard struct {
	UID           string
	Title         string
	SchemaVersion int
	Panels        []panel
	Templating    struct {
		List []struct {
			Name, Type string
			Query      any
			Datasource *datasource
		}
	}
}

// grafanaVars are the dashboards' variables, replaced by what Grafana
// would put there so that promtool can parse the expressions.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1d", "$peer", ".*")

// TestDashboards checks what Grafana's dashboard schema requires of each
// dashboard, that every query goes to the ${datasource} variable, and
// parses every expression with Prometheus' own parser (promtool, as
// recording rules).
func TestDashboards(t *testing.T) {
	files, _ := filepath.Glob("grafana/*.json")
	if len(files) < 3 {
		t.Fatalf("dashboards: %v, want the transfer, pipeline and security ones", files)
	}
	uids := map[string]string{}
	var exprs []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		dec := json.NewDecoder(strings.NewReader(string(b)))
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("%s: not a dashboard: %v", f, err)
		}
		if d.Title == "" || d.UID == "" || len(d.UID) > 40 {
			t.Errorf("%s: title %q, uid %q (both needed, uid at most 40 characters)", f, d.Title, d.UID)
		}
		if other, dup := uids[d.UID]; dup {
			t.Errorf("%s: uid %q is %s's too", f, d.UID, other)
		}
		uids[d.UID] = f
		if d.SchemaVersion < 36 {
			t.Errorf("%s: schemaVersion %d, want >= 36", f, d.SchemaVersion)
		}
		hasDS := false
		for _, v := range d.Templating.List {
			switch {
			case v.Name == "datasource":
				hasDS = v.Type == "datasource" && v.Query == "prometheus"
			case v.Type == "query" && (v.Datasource == nil || v.Datasource.UID != "${datasource}"):
				t.Errorf("%s: variable %s does not query ${datasource}", f, v.Name)
			}
		}
		if !hasDS {
			t.Errorf("%s: no datasource variable of type datasource for prometheus", f)
		}
		if len(d.Panels) == 0 {
			t.Errorf("%s: no panels", f)
		}
		ids := map[int]bool{}
		var cells [][4]int
		for i, p := range d.Panels {
			where := fmt.Sprintf("%s: panel %d %q", f, i, p.Title)
			if p.Type == "" || p.Title == "" || p.GridPos == nil || p.ID == nil {
				t.Errorf("%s: type, title, id and gridPos are required", where)
				continue
			}
			if ids[*p.ID] {
				t.Errorf("%s: id %d twice", where, *p.ID)
			}
			ids[*p.ID] = true
			g := p.GridPos
			if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
				t.Errorf("%s: gridPos %+v outside the 24 columns", where, *g)
			}
			for _, c := range cells {
				if g.X < c[0]+c[2] && c[0] < g.X+g.W && g.Y < c[1]+c[3] && c[1] < g.Y+g.H {
					t.Errorf("%s: gridPos %+v overlaps another panel", where, *g)
				}
			}
			cells = append(cells, [4]int{g.X, g.Y, g.W, g.H})
			if p.Type == "row" {
				if len(p.Targets) != 0 || len(p.Panels) != 0 {
					t.Errorf("%s: a row holds no queries here (keep rows open)", where)
				}
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
				t.Errorf("%s: datasource %+v, want the ${datasource} variable", where, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no targets", where)
			}
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				if tg.RefID == "" || refs[tg.RefID] || strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("%s: target %q: a unique refId and an expr are required", where, tg.RefID)
				}
				refs[tg.RefID] = true
				if tg.Datasource != nil && tg.Datasource.UID != "${datasource}" {
					t.Errorf("%s: target %s queries %+v, not ${datasource}", where, tg.RefID, tg.Datasource)
				}
				exprs = append(exprs, grafanaVars.Replace(tg.Expr))
			}
		}
	}
	// Every expression, parsed by promtool as a recording rule.
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboards\n    rules:\n")
	for i, e := range exprs {
		q, _ := json.Marshal(e)
		fmt.Fprintf(&b, "      - record: dashboard:expr_%d\n        expr: %s\n", i, q)
	}
	tmp := filepath.Join(t.TempDir(), "dashboards.yml")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	promtool(t, "check", "rules", tmp)
	t.Logf("%d dashboards, %d expressions parsed", len(files), len(exprs))
}
