// Package i18n holds the user interface's messages in Korean (the default:
// the users are Korean public servants and police) and English, and picks
// a language for a request.
package i18n

import (
	"fmt"
	"net/http"
	"strings"
)

// Languages, default first.
var Languages = []string{"ko", "en"}

// Cookie remembers a browser's chosen language.
const Cookie = "lang"

// T returns the message key in lang, formatted with args. A missing message
// shows its key, which a test prevents from shipping.
func T(lang, key string, args ...any) string {
	m, ok := messages[lang][key]
	if !ok {
		m, ok = messages["ko"][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// Has reports whether key exists.
func Has(key string) bool { _, ok := messages["ko"][key]; return ok }

// Pick chooses a language: the cookie a user set, else the browser's first
// supported Accept-Language, else Korean.
func Pick(r *http.Request) string {
	if c, err := r.Cookie(Cookie); err == nil && Supported(c.Value) {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if Supported(base) {
			return base
		}
	}
	return Languages[0]
}

// Supported reports whether lang has a catalogue.
func Supported(lang string) bool { _, ok := messages[lang]; return ok }
