package i18n

import (
	"net/http/httptest"
	"testing"
)

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	for _, a := range Languages {
		for _, b := range Languages {
			for k := range messages[a] {
				if _, ok := messages[b][k]; !ok {
					t.Errorf("%q has %s but %q does not", a, k, b)
				}
			}
		}
	}
}

func TestPick(t *testing.T) {
	for _, tc := range []struct{ cookie, accept, want string }{
		{"", "", "ko"},
		{"", "en-US,en;q=0.9", "en"},
		{"", "fr-FR,en;q=0.5", "en"},
		{"", "ko-KR,ko;q=0.9,en;q=0.8", "ko"},
		{"ko", "en-US", "ko"},
		{"xx", "en", "en"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", tc.accept)
		if tc.cookie != "" {
			r.Header.Set("Cookie", Cookie+"="+tc.cookie)
		}
		if got := Pick(r); got != tc.want {
			t.Errorf("Pick(cookie %q, accept %q) = %s, want %s", tc.cookie, tc.accept, got, tc.want)
		}
	}
	if T("en", "home.welcome", "kim", "admin") != "Signed in as kim (admin)." {
		t.Error(T("en", "home.welcome", "kim", "admin"))
	}
}
