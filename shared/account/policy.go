package account

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ccojocar/zxcvbn-go"
)

// PolicyError says why a password was refused. Reason is a message key
// (shared/i18n) so the reason can be shown in the user's language.
type PolicyError struct{ Reason string }

func (e *PolicyError) Error() string { return "account: weak password: " + policyText[e.Reason] }

var policyText = map[string]string{
	"pw.short":    "use at least 10 characters",
	"pw.long":     "use at most 128 characters",
	"pw.classes":  "mix at least three of: upper-case letters, lower-case letters, digits, symbols",
	"pw.username": "must not contain the user name",
	"pw.guess":    "too easy to guess (a common password, word, name, date or keyboard pattern)",
	"pw.same":     "the new password must differ from the current one",
}

// CheckPassword applies the password policy of the 2024 Korean IP-camera
// security rules and KISA's guidance: at least 10 characters mixing three
// character classes, not containing the user name, and rated at least 3 of
// 4 ("safely unguessable") by zxcvbn, which knows common and leaked
// passwords, words, names, dates, keyboard patterns and l33t speak.
// related are further strings the password must not lean on (full name,
// affiliation).
func CheckPassword(password, username string, related ...string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < 10:
		return &PolicyError{"pw.short"}
	case n > 128:
		return &PolicyError{"pw.long"}
	}
	var upper, lower, digit, symbol bool
	for _, r := range password {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r), unicode.IsLetter(r): // Hangul has no case
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			symbol = true
		}
	}
	if count(upper, lower, digit, symbol) < 3 {
		return &PolicyError{"pw.classes"}
	}
	if username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)) {
		return &PolicyError{"pw.username"}
	}
	inputs := append([]string{username, "sealgate", "cctv", "police"}, related...)
	if zxcvbn.PasswordStrength(password, inputs).Score < 3 {
		return &PolicyError{"pw.guess"}
	}
	return nil
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
