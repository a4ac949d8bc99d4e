package opener

import (
	"bytes"
	"strings"
	"testing"

	"sealgate/shared/seal"
)

// A hostile package's manifest cannot rewrite the officer's terminal: its
// escape sequences, bidi overrides and broken UTF-8 are shown escaped;
// Korean text is shown as it is.
func TestManifestIsPrintedEscaped(t *testing.T) {
	m := &seal.Manifest{ExportCode: "SG-2026-000123\x1b[2J\x1b[H", ReasonCode: "theft\r\nsigned by: sha256:forged",
		UnmaskedReason: "ok \u202etxt.exe", Watermark: "\xff\xfe"}
	m.Camera.Name, m.Camera.Location = "CAM-031", "중앙로 교차로"
	var out bytes.Buffer
	printManifest(&out, m)
	s := out.String()
	for _, bad := range []string{"\x1b", "\r", "\u202e", "\xff"} {
		if strings.Contains(s, bad) {
			t.Errorf("printed %q raw:\n%s", bad, s)
		}
	}
	for _, want := range []string{`"SG-2026-000123\x1b[2J\x1b[H"`, `"theft\r\nsigned by: sha256:forged"`, `\u202e`, `\xff\xfe`, "CAM-031, 중앙로 교차로"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %s:\n%s", want, s)
		}
	}
}
