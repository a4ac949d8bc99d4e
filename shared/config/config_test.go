package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sealgate/shared/config"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inner.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadInnerDefaultsAndRelativePaths(t *testing.T) {
	p := write(t, "data_dir: data\nconsole:\n  listen: 127.0.0.1:18443\n")
	c, err := config.LoadInner(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	if c.DataDir != filepath.Join(dir, "data") || c.KeyDir != filepath.Join(dir, "data", "keys") {
		t.Errorf("paths: data_dir=%s key_dir=%s", c.DataDir, c.KeyDir)
	}
	if c.Console.Listen != "127.0.0.1:18443" || c.Metrics.Listen != "127.0.0.1:9101" || c.ShutdownGrace != 10*time.Second {
		t.Errorf("values: %+v", c)
	}
	if c.Database.URL != "" || c.Database.Private.User != "postgres" {
		t.Errorf("database: %+v", c.Database)
	}
	if c.ApplianceNumber != 1 {
		t.Errorf("appliance_number: %d", c.ApplianceNumber)
	}
	// Given as a relative path (as `make run` does), the file's paths still
	// come out absolute: a relative socket directory would read as a host.
	t.Chdir(dir)
	c, err = config.LoadInner("inner.yaml", nil)
	if err != nil || c.DataDir != filepath.Join(dir, "data") {
		t.Errorf("relative config path: data_dir=%s, %v", c.DataDir, err)
	}
}

func TestErrorsNameKeyFileAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		env        []string
		want       []string // substrings of the message
		unknown    bool
	}{
		{name: "misspelled top-level key", body: "data_dir: /x\nconsle:\n  listen: :1\n", want: []string{"inner.yaml:2", "consle", "unknown key"}, unknown: true},
		{name: "misspelled nested key", body: "data_dir: /x\nconsole:\n  listn: 127.0.0.1:1\n", want: []string{"inner.yaml:3", "console.listn"}, unknown: true},
		{name: "outer section in inner file", body: "portal:\n  listen: 127.0.0.1:1\n", want: []string{"inner.yaml:1", "portal"}, unknown: true},
		{name: "unknown environment variable", body: "data_dir: /x\n", env: []string{"SEALGATE_INNER_CONSLE_LISTEN=:1"}, want: []string{"environment", "SEALGATE_INNER_CONSLE_LISTEN"}, unknown: true},
		{name: "bad listen address", body: "console:\n  listen: nowhere\n", want: []string{"inner.yaml", "console.listen", "nowhere"}},
		{name: "bad log level", body: "log:\n  level: loud\n", want: []string{"log.level", "loud"}},
		{name: "bad duration", body: "shutdown_grace: forever\n", want: []string{"inner.yaml", "forever"}},
		{name: "bad duration from environment", body: "", env: []string{"SEALGATE_INNER_SHUTDOWN_GRACE=soon"}, want: []string{"SEALGATE_INNER_SHUTDOWN_GRACE"}},
		{name: "half a TLS pair", body: "console:\n  tls_cert: a.pem\n", want: []string{"console.tls_cert"}},
		{name: "not YAML", body: "data_dir: [\n", want: []string{"inner.yaml"}},
		{name: "appliance number out of range", body: "appliance_number: 70000\n", want: []string{"appliance_number", "70000"}},
		{name: "too many connections", body: "transfer:\n  connections: 300\n", want: []string{"transfer.connections", "300"}},
		{name: "anchored too often", body: "audit:\n  anchor_every: 5s\n", want: []string{"audit.anchor_every", "5s"}},
		{name: "syslog without a port", body: "audit:\n  syslog: udp://siem.example\n", want: []string{"audit.syslog", "udp://host:port"}},
		{name: "status asked too often", body: "transfer:\n  status_every: 5s\n", want: []string{"transfer.status_every", "5s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.LoadInner(write(t, tc.body), tc.env)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if errors.Is(err, config.ErrUnknownKey) != tc.unknown {
				t.Errorf("errors.Is(err, ErrUnknownKey) = %v, want %v", !tc.unknown, tc.unknown)
			}
		})
	}
}

func TestEnvironmentOverridesFile(t *testing.T) {
	p := write(t, "metrics:\n  listen: 127.0.0.1:1\n")
	c, err := config.LoadOuter(p, []string{
		"SEALGATE_OUTER_METRICS_LISTEN=127.0.0.1:2",
		"SEALGATE_OUTER_DATABASE_URL=postgres://db.example/sg",
		"SEALGATE_OUTER_PORTAL_HOSTNAMES=portal.police.local, 10.0.0.5",
		"SEALGATE_OUTER_SHUTDOWN_GRACE=3s",
		"SEALGATE_INNER_NOT_MINE=1", // the other daemon's variables are ignored
		"SEALGATE_OUTER_CONFIG=/etc/x.yaml",
		"SEALGATE_OUTER_DATABASE_OWNER_URL=postgres://owner@db.example/sg", // --owner-url's
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Metrics.Listen != "127.0.0.1:2" || c.Database.URL != "postgres://db.example/sg" || c.ShutdownGrace != 3*time.Second {
		t.Errorf("overrides not applied: %+v", c.Base)
	}
	if got := strings.Join(c.Portal.Hostnames, "|"); got != "portal.police.local|10.0.0.5" {
		t.Errorf("hostnames = %q", got)
	}
}

func TestExampleConfigsLoad(t *testing.T) {
	if _, err := config.LoadInner("../../configs/inner.example.yaml", nil); err != nil {
		t.Error(err)
	}
	if _, err := config.LoadOuter("../../configs/outer.example.yaml", nil); err != nil {
		t.Error(err)
	}
}

// The metrics token file is the daemon's alone and holds a long token.
func TestMetricsTokenFile(t *testing.T) {
	p := write(t, "data_dir: data\nmetrics:\n  tls: true\n  bearer_token_file: metrics.token\n")
	tok := filepath.Join(filepath.Dir(p), "metrics.token")
	for _, c := range []struct {
		body string
		mode os.FileMode
		bad  string
	}{
		{"short", 0o600, "at least 32"},
		{strings.Repeat("x", 40), 0o644, "readable by the daemon only"},
		{strings.Repeat("x", 40) + "\n", 0o600, ""},
	} {
		os.WriteFile(tok, []byte(c.body), c.mode)
		os.Chmod(tok, c.mode)
		cfg, err := config.LoadInner(p, nil)
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("a good token file: %v", err)
		case c.bad == "":
			if got, _ := cfg.Metrics.BearerToken(); got != strings.Repeat("x", 40) || !cfg.Metrics.TLS {
				t.Errorf("token %q, tls %v", got, cfg.Metrics.TLS)
			}
		case err == nil || !strings.Contains(err.Error(), "metrics.bearer_token_file") || !strings.Contains(err.Error(), c.bad):
			t.Errorf("%q mode %#o: %v, want %q", c.body, c.mode, err, c.bad)
		}
	}
}
