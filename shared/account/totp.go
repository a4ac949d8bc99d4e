package account

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

const totpPeriod = 30

// Enrollment is a new TOTP secret, before the user has confirmed a code.
type Enrollment struct {
	Secret string // base32, to type in by hand
	URL    string // otpauth:// URL
	QRPNG  []byte // the URL as a QR code
}

// NewEnrollment makes a TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s, which
// every authenticator app reads) for account on the named appliance.
func NewEnrollment(issuer, account string) (*Enrollment, error) {
	return newEnrollment(issuer, account, "")
}

// newEnrollment rebuilds the enrolment of a base32 secret, or makes a new
// secret when it is empty.
func newEnrollment(issuer, account, secret string) (*Enrollment, error) {
	opts := totp.GenerateOpts{Issuer: issuer, AccountName: account, SecretSize: 20}
	if secret != "" {
		raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
		if err != nil {
			return nil, fmt.Errorf("account: totp secret: %w", err)
		}
		opts.Secret = raw
	}
	key, err := totp.Generate(opts)
	if err != nil {
		return nil, fmt.Errorf("account: totp: %w", err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, fmt.Errorf("account: totp qr: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &Enrollment{Secret: key.Secret(), URL: key.URL(), QRPNG: buf.Bytes()}, nil
}

// checkTOTP accepts code for secret at now within one step of clock skew,
// only for a time step after lastStep (so a code works once). It returns
// the step the code matched.
func checkTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0, false
	}
	step := now.Unix() / totpPeriod
	for _, s := range []int64{step - 1, step, step + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && s > lastStep && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// newRecoveryCodes returns n one-time codes (60 random bits each, written
// xxxx-xxxx-xxxx) and their SHA-256 hashes for the database.
func newRecoveryCodes(n int) (codes []string, hashes [][]byte) {
	enc := base32.NewEncoding("abcdefghjkmnpqrstuvwxyz023456789").WithPadding(base32.NoPadding)
	for range n {
		b := make([]byte, 8)
		rand.Read(b)
		s := enc.EncodeToString(b)[:12]
		code := s[:4] + "-" + s[4:8] + "-" + s[8:]
		codes = append(codes, code)
		hashes = append(hashes, hashRecovery(code))
	}
	return codes, hashes
}

func hashRecovery(code string) []byte {
	c := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), " ", ""))
	sum := sha256.Sum256([]byte(c))
	return sum[:]
}
