package appliance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/appliance/outerd"
	"sealgate/shared/account"
	"sealgate/shared/config"
	"sealgate/shared/keys"
)

// signedIn is a client of daemon d signed in as a new user of role, with
// the daemon's own account configuration and keys.
func signedIn(t *testing.T, d *daemontest.Daemon, dbURL, keyDir string, accounts account.Config, outer bool, name, role string) *daemontest.Client {
	t.Helper()
	var secrets *keys.Secrets
	if outer {
		k, err := keys.LoadOuter(keyDir)
		if err != nil {
			t.Fatal(err)
		}
		secrets = &k.Secrets
	} else {
		k, err := keys.LoadInner(keyDir)
		if err != nil {
			t.Fatal(err)
		}
		secrets = &k.Secrets
	}
	return d.SignedIn(t, daemontest.Accounts(t, dbURL, accounts, secrets), name, role)
}

var (
	useCell         = regexp.MustCompile(`(?s)<dd id="use">(.*?)</dd>`)
	destructionCell = regexp.MustCompile(`(?s)<dd id="destruction">(.*?)</dd>`)
)

// officersUseReachesTheLedger follows a delivered online export past its
// delivery, both daemons running: the addressed officer downloads the
// package from the portal (whole, and again from byte 0; a resumed range
// is the same download), the inner's next status query brings the signed
// use into its ledger; an outer admin revokes the package, and the
// inner's ledger shows the verified destruction receipt with the final
// counts, as the auditor's detail page and `outbox list` both say.
func officersUseReachesTheLedger(t *testing.T, s *exportSite, ind, outd *daemontest.Daemon, icfg *config.Inner, ocfg *config.Outer, id, sha string) {
	officer := signedIn(t, outd, ocfg.Database.URL, ocfg.KeyDir, outerd.Accounts, true, "officer.kim", "officer")
	auditor := signedIn(t, ind, icfg.Database.URL, icfg.KeyDir, innerd.Accounts, false, "auditor.choi", "auditor")
	pkg := "/packages/" + sha + "/package"
	for _, rng := range []string{"", "bytes=0-99", "bytes=100-"} {
		if code, _ := officer.GetRange(t, pkg, rng); code != http.StatusOK && code != http.StatusPartialContent {
			t.Fatalf("the officer's download (%q): %d", rng, code)
		}
	}
	page := func() string {
		code, body := auditor.Do(t, http.MethodGet, "/ledger/"+id, nil, false)
		if code != http.StatusOK {
			t.Fatalf("the ledger's detail page: %d", code)
		}
		return body
	}
	wait := func(what string, ok func(string) bool) string {
		t.Helper()
		for end := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
			body := page()
			if ok(body) {
				return body
			}
			if time.Now().After(end) {
				t.Fatalf("%s: not within a minute; the page says %q and %q", what, useCell.FindString(body), destructionCell.FindString(body))
			}
		}
	}
	uses := func(body string) string {
		m := useCell.FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return m[1]
	}
	// "다운로드 2회 · 재생 0회" or "2 downloads · 0 plays", as the session's language has it.
	twoDownloads := regexp.MustCompile(`(다운로드 2회 · 재생 0회|2 downloads · 0 plays)`)
	body := wait("the officer's downloads in the inner's ledger", func(b string) bool { return twoDownloads.MatchString(uses(b)) })
	if strings.Contains(destructionCell.FindString(body), `class="destroyed"`) {
		t.Fatalf("destroyed before it was revoked: %s", destructionCell.FindString(body))
	}

	s.outer(t, "store", "revoke", sha, "--reason", "수사 종결 (공문 2026-91)")
	body = wait("the destruction receipt in the inner's ledger", func(b string) bool {
		return strings.Contains(destructionCell.FindString(b), `class="destroyed"`)
	})
	if !twoDownloads.MatchString(uses(body)) {
		t.Errorf("the use after the destruction: %s", uses(body))
	}
	var list struct {
		Packages []struct {
			SHA256      string `json:"sha256"`
			Verified    bool   `json:"destruction_verified"`
			Reason      string `json:"destruction_reason"`
			Downloads   int
			Plays       int
			FirstViewed *time.Time `json:"first_viewed_at"`
		}
	}
	if err := json.Unmarshal([]byte(s.inner(t, "outbox", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	for _, p := range list.Packages {
		if p.SHA256 == sha && (!p.Verified || p.Reason != "revoked" || p.Downloads != 2 || p.Plays != 0 || p.FirstViewed == nil) {
			t.Errorf("the outbox's record of the package: %+v", p)
		}
	}
	// The contract of `ledger list --json`: the copy's row carries the verified destruction.
	var ledger struct {
		Exports []struct {
			DestroyedAt *time.Time `json:"destroyed_at"`
			Verified    bool       `json:"destruction_verified"`
		}
	}
	if err := json.Unmarshal([]byte(s.inner(t, "ledger", "list", "--json")), &ledger); err != nil || len(ledger.Exports) == 0 {
		t.Fatalf("ledger list: %v", err)
	}
	if e := ledger.Exports[0]; !e.Verified || e.DestroyedAt == nil {
		t.Errorf("the copy's ledger row after the receipt: %+v", e)
	}
	if code, _ := officer.GetRange(t, pkg, ""); code != http.StatusGone {
		t.Errorf("a download after the revocation: %d, want 410", code)
	}
}

// anchorsExchanged: with both daemons running, each holds the other's
// audit anchor, and each side's chain verifies against the anchor the
// other kept: the outer's copy of the inner's head checked on the inner,
// the inner's copy of the outer's checked on the outer.
func anchorsExchanged(t *testing.T, s *exportSite) {
	t.Helper()
	dir := t.TempDir()
	innerHead, outerHead := filepath.Join(dir, "inner-head.anchor"), filepath.Join(dir, "outer-head.anchor")
	var out, errb bytes.Buffer
	for end := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		out.Reset()
		errb.Reset()
		if outerd.Main(context.Background(), []string{"audit", "peer-anchor", "--config", s.outerConf, "--out", innerHead}, &out, &errb, s.outerEnv) == 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the outer holds no anchor of the inner's: %s", errb.String())
		}
	}
	if got := s.inner(t, "audit", "verify", "--anchor", innerHead, "--json"); !strings.Contains(got, `"intact":true`) {
		t.Errorf("the inner's chain against the anchor the outer kept: %s", got)
	}
	s.inner(t, "audit", "peer-anchor", "--out", outerHead)
	if got := s.outer(t, "audit", "verify", "--anchor", outerHead, "--json"); !strings.Contains(got, `"intact":true`) {
		t.Errorf("the outer's chain against the anchor the inner kept: %s", got)
	}
}
