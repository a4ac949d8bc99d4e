package config_test

import (
	"errors"
	"slices"
	"testing"

	"sealgate/shared/config"
)

func TestOfficerEmailDomains(t *testing.T) {
	c, err := config.LoadOuter(write(t, "officers:\n  email_domains: [Police.go.kr, ' kcg.go.kr']\n"), nil)
	if err != nil || !slices.Equal(c.Officers.EmailDomains, []string{"police.go.kr", "kcg.go.kr"}) {
		t.Fatalf("domains %q, %v", c.Officers.EmailDomains, err)
	}
	c, err = config.LoadOuter(write(t, ""), []string{"SEALGATE_OUTER_OFFICERS_EMAIL_DOMAINS=police.go.kr"})
	if err != nil || !slices.Equal(c.Officers.EmailDomains, []string{"police.go.kr"}) {
		t.Fatalf("from the environment: %q, %v", c.Officers.EmailDomains, err)
	}
	_, err = config.LoadOuter(write(t, "officers:\n  email_domains: ['@police.go.kr']\n"), nil)
	var ke *config.KeyError
	if !errors.As(err, &ke) || ke.Key != "officers.email_domains" {
		t.Fatalf("a domain with an @: %v", err)
	}
}
