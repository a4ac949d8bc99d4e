package seal

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// MaxManifestSize bounds the manifest a reader accepts.
const MaxManifestSize = 64 << 10

// Manifest describes the export a package carries. It is stored as
// canonical JSON (see [Manifest.Encode]) and covered by the signature. It
// holds only the personal data the recipient needs.
type Manifest struct {
	ExportID   string    `json:"export_id,omitempty"`
	ExportCode string    `json:"export_code,omitempty"` // human-readable, e.g. SG-2026-000123
	Camera     Camera    `json:"camera,omitzero"`
	TimeFrom   time.Time `json:"time_from,omitzero"` // the footage's time range
	TimeTo     time.Time `json:"time_to,omitzero"`
	ReasonCode string    `json:"reason_code,omitempty"` // legal basis of the export (PIPA art. 18 ②)
	Recipient  Recipient `json:"recipient,omitzero"`
	ViewFrom   time.Time `json:"view_from,omitzero"` // viewing window
	ViewUntil  time.Time `json:"view_until,omitzero"`

	OriginalSHA256  string `json:"original_sha256,omitempty"`  // footage as ingested
	DeliveredSHA256 string `json:"delivered_sha256"`           // the payload's plaintext
	DeliveredSize   int64  `json:"delivered_size"`             // equals the header's payload size
	MediaType       string `json:"media_type,omitempty"`       // e.g. video/mp4
	FileName        string `json:"file_name,omitempty"`        // suggested name when decrypted
	MaskPlanSHA256  string `json:"mask_plan_sha256,omitempty"` // the reviewed mask plan
	// UnmaskedReason is the audited justification of an export without
	// masking (docs/architecture.md, "Trust rules" 4); empty when masked.
	UnmaskedReason string `json:"unmasked_reason,omitempty"`
	Watermark      string `json:"watermark,omitempty"` // 64-bit forensic payload, 16 hex digits

	ToolVersions map[string]string `json:"tool_versions,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	SignerKeyID  string            `json:"signer_key_id"` // sha256: fingerprint of the signing key
}

// Camera names the source of the footage.
type Camera struct {
	Name     string `json:"name,omitempty"`
	Location string `json:"location,omitempty"`
}

// Recipient is who the export is addressed to.
type Recipient struct {
	Name   string `json:"name,omitempty"`
	Agency string `json:"agency,omitempty"`
	ID     string `json:"id,omitempty"` // officer or case identifier
}

// normalize puts times in UTC at whole seconds, so encoding is canonical.
func (m *Manifest) normalize() {
	for _, t := range []*time.Time{&m.TimeFrom, &m.TimeTo, &m.ViewFrom, &m.ViewUntil, &m.CreatedAt} {
		if !t.IsZero() {
			*t = t.UTC().Truncate(time.Second)
		}
	}
}

// Encode returns the manifest's canonical encoding: compact JSON with
// fields in declaration order, map keys sorted, times in UTC at whole seconds.
func (m *Manifest) Encode() ([]byte, error) {
	c := *m
	c.normalize()
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("seal: encode manifest: %w", err)
	}
	return b, nil
}

// Validate checks the manifest's fields for form and consistency.
func (m *Manifest) Validate() error {
	for name, v := range map[string]string{"original_sha256": m.OriginalSHA256, "delivered_sha256": m.DeliveredSHA256, "mask_plan_sha256": m.MaskPlanSHA256} {
		if v != "" && !isHex(v, 32) {
			return malformed("manifest %s must be 64 lower-case hex digits", name)
		}
	}
	if !isHex(m.DeliveredSHA256, 32) {
		return malformed("manifest delivered_sha256 is required")
	}
	if m.Watermark != "" && !isHex(m.Watermark, 8) {
		return malformed("manifest watermark must be 16 lower-case hex digits")
	}
	if m.DeliveredSize < 0 {
		return malformed("manifest delivered_size is negative")
	}
	if !m.TimeFrom.IsZero() && !m.TimeTo.IsZero() && m.TimeTo.Before(m.TimeFrom) {
		return malformed("manifest time_to is before time_from")
	}
	if !m.ViewFrom.IsZero() && !m.ViewUntil.IsZero() && !m.ViewUntil.After(m.ViewFrom) {
		return malformed("manifest view_until is not after view_from")
	}
	if m.CreatedAt.IsZero() || m.SignerKeyID == "" {
		return malformed("manifest created_at and signer_key_id are required")
	}
	return nil
}

// parseManifest decodes b strictly: unknown fields are refused, and b must
// be exactly the canonical encoding of what it decodes to, which also
// refuses duplicate keys, reordered keys and extra whitespace — no two
// readers can see different manifests in one package.
func parseManifest(b []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, malformed("manifest: %v", err)
	}
	if dec.More() {
		return nil, malformed("manifest: data after the JSON object")
	}
	canon, err := m.Encode()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canon, b) {
		return nil, malformed("manifest is not in canonical form")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

func isHex(s string, n int) bool {
	if len(s) != 2*n {
		return false
	}
	b, err := hex.DecodeString(s)
	return err == nil && hex.EncodeToString(b) == s
}
