package opener

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"sealgate/shared/seal"
)

// printManifest lists a manifest for a person, skipping empty fields.
func printManifest(w io.Writer, m *seal.Manifest) {
	row := func(label, value string) {
		if value != "" {
			fmt.Fprintf(w, "%-18s %s\n", label+":", printable(value))
		}
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04:05 MST")
	}
	span := func(a, b time.Time) string {
		if a.IsZero() && b.IsZero() {
			return ""
		}
		return when(a) + " – " + when(b)
	}
	row("export", m.ExportCode)
	row("export id", m.ExportID)
	row("camera", join(m.Camera.Name, m.Camera.Location))
	row("footage", span(m.TimeFrom, m.TimeTo))
	row("reason", m.ReasonCode)
	row("recipient", join(m.Recipient.Name, m.Recipient.Agency, m.Recipient.ID))
	row("viewing period", span(m.ViewFrom, m.ViewUntil))
	row("video", fmt.Sprintf("%s, %d bytes", orDash(m.MediaType), m.DeliveredSize))
	row("video SHA-256", m.DeliveredSHA256)
	row("original SHA-256", m.OriginalSHA256)
	row("mask plan SHA-256", m.MaskPlanSHA256)
	row("unmasked because", m.UnmaskedReason)
	row("watermark", m.Watermark)
	row("created", when(m.CreatedAt))
	row("signed by", m.SignerKeyID)
	for _, k := range slices.Sorted(maps.Keys(m.ToolVersions)) {
		row("tool", k+" "+m.ToolVersions[k])
	}
}

// printable is s as a terminal may show it: a string with control or
// format characters (escape sequences that rewrite the screen, bidi
// overrides that reorder it) or invalid UTF-8, which a hostile package's
// manifest may hold, is shown quoted with those escaped.
func printable(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) }) < 0 {
		return s
	}
	return strconv.QuoteToGraphic(s)
}

func join(parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += ", "
		}
		out += p
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
