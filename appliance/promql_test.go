package appliance_test

import (
	"slices"
	"strings"
	"testing"
)

// A careful lexer of PromQL instead of Prometheus' own parser: that module
// (github.com/prometheus/prometheus) brings in far more than these tests
// are worth. It finds the metric names of an expression: identifiers that
// are neither functions or aggregations (followed by "("), nor keywords,
// nor label names (in {…}, by/without/on/ignoring/group_left/group_right
// lists), nor inside strings, ranges […] or Grafana's $variables.

// promqlKeywords are PromQL's words that are not metric names.
var promqlKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "offset": true, "and": true, "or": true, "unless": true, "inf": true, "nan": true, "atan2": true,
	// aggregations, which may be followed by "by (…)" before their "(".
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true, "count": true,
	"count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true}

// labelLists are the keywords whose "(…)" holds label names.
var labelLists = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// eqMatcher is an equality matcher on a named metric: name{label="value"}.
type eqMatcher struct{ metric, label, value string }

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdent(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

// promqlNames returns the metric names expr selects and its equality
// matchers on them.
func promqlNames(expr string) (names []string, eq []eqMatcher) {
	s := expr
	i := 0
	skipSpace := func(j int) int {
		for j < len(s) && strings.IndexByte(" \t\r\n", s[j]) >= 0 {
			j++
		}
		return j
	}
	skipString := func(j int) int { // s[j] is the quote
		q := s[j]
		for j++; j < len(s) && s[j] != q; j++ {
			if s[j] == '\\' && q != '`' {
				j++
			}
		}
		return j + 1
	}
	skipTo := func(j int, end byte) int {
		for j < len(s) && s[j] != end {
			if s[j] == '"' || s[j] == '\'' || s[j] == '`' {
				j = skipString(j)
				continue
			}
			j++
		}
		return j + 1
	}
	// matchers parses {…} at s[j] for metric (empty: a bare selector).
	matchers := func(j int, metric string) int {
		j++
		for {
			j = skipSpace(j)
			if j >= len(s) || s[j] == '}' {
				return j + 1
			}
			if s[j] == ',' {
				j++
				continue
			}
			k := j
			for k < len(s) && isIdent(s[k]) {
				k++
			}
			label := s[j:k]
			k = skipSpace(k)
			op := ""
			for k < len(s) && strings.IndexByte("=!~", s[k]) >= 0 {
				op += string(s[k])
				k++
			}
			k = skipSpace(k)
			if k >= len(s) || label == "" || op == "" {
				return skipTo(j, '}')
			}
			end := skipString(k)
			value := s[k+1 : end-1]
			if op == "=" && metric != "" && !strings.Contains(value, "$") {
				eq = append(eq, eqMatcher{metric, label, value})
			}
			if label == "__name__" && op == "=" {
				names = append(names, value)
			}
			j = end
		}
	}
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(i)
		case c == '#':
			i = skipTo(i, '\n')
		case c == '[':
			i = skipTo(i, ']')
		case c == '{':
			i = matchers(i, "")
		case c == '$': // a Grafana variable: $name or ${name}
			i++
			if i < len(s) && s[i] == '{' {
				i = skipTo(i, '}')
			}
			for i < len(s) && isIdent(s[i]) {
				i++
			}
		case '0' <= c && c <= '9' || c == '.':
			for i < len(s) && (isIdent(s[i]) || s[i] == '.') {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			word := s[i:j]
			k := skipSpace(j)
			switch {
			case labelLists[word] && k < len(s) && s[k] == '(':
				i = skipTo(k, ')')
			case k < len(s) && s[k] == '(', promqlKeywords[strings.ToLower(word)]:
				i = j // a function, an aggregation or a keyword
			default:
				names = append(names, word)
				i = j
				if k < len(s) && s[k] == '{' {
					i = matchers(k, word)
				}
			}
		default:
			i++
		}
	}
	return names, eq
}

func TestPromQLNames(t *testing.T) {
	for _, c := range []struct {
		expr  string
		names []string
		eq    []eqMatcher
	}{
		{`histogram_quantile(0.95, sum by (le, stage) (rate(sealgate_pipeline_stage_duration_seconds_bucket{stage="render"}[$__rate_interval])))`,
			[]string{"sealgate_pipeline_stage_duration_seconds_bucket"}, []eqMatcher{{"sealgate_pipeline_stage_duration_seconds_bucket", "stage", "render"}}},
		{`time() - max by (peer) (sealgate_receive_last_contact_timestamp_seconds{peer=~"$peer"}) > 3600 and on (peer) up == 1`,
			[]string{"sealgate_receive_last_contact_timestamp_seconds", "up"}, nil},
		{`sum(increase(sealgate_accountui_signin_steps_total{outcome=~"bad_.*", job!="x"}[10m])) by (daemon) or vector(0)`,
			[]string{"sealgate_accountui_signin_steps_total"}, nil},
		{`label_replace(sealgate_disk_free_bytes{dir='data'}, "d", "$1", "dir", "(.*)") / ignoring(d) sealgate_disk_size_bytes offset 5m`,
			[]string{"sealgate_disk_free_bytes", "sealgate_disk_size_bytes"}, []eqMatcher{{"sealgate_disk_free_bytes", "dir", "data"}}},
		{`sealgate_outbox_depth > bool 10 unless sealgate_outbox_oldest_age_seconds < 1e3`,
			[]string{"sealgate_outbox_depth", "sealgate_outbox_oldest_age_seconds"}, nil},
	} {
		names, eq := promqlNames(c.expr)
		if !slices.Equal(names, c.names) || !slices.Equal(eq, c.eq) {
			t.Errorf("%s:\n names %q, want %q\n eq %v, want %v", c.expr, names, c.names, eq, c.eq)
		}
	}
}
