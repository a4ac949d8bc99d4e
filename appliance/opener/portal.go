package opener

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"time"

	"sealgate/shared/seal"
)

// The portal's cookies (shared/accountui, shared/web): the opener keeps
// them as a browser does.
const (
	csrfCookie    = "__Host-sealgate-csrf"
	portalTimeout = 30 * time.Second
)

// portal is a client of the outer's portal that signs an officer in through
// the very pages a browser uses (POST /login, POST /totp: the same
// lockout and rate limits, no other door) and asks the license endpoint
// for a package's key, wrapped to a key pair it makes for that request
// (docs/portal.md, "Player and license").
type portal struct {
	base *url.URL
	http *http.Client
}

// newPortal dials the portal at base. fingerprint (sha256:…, as
// `sealgate-outer serve` prints its certificate's) pins a self-signed
// certificate; without it the system's roots must vouch for the portal.
func newPortal(base, fingerprint string) (*portal, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("--portal %q: give the portal's https:// address", base)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if fingerprint != "" {
		want, ok := strings.CutPrefix(strings.ToLower(fingerprint), "sha256:")
		if raw, err := hex.DecodeString(want); !ok || err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("--portal-fingerprint %q: sha256: and 64 hex digits", fingerprint)
		}
		tc.InsecureSkipVerify = true // replaced by the pin below, which is stricter than any CA
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if hex.EncodeToString(sum[:]) != want {
				return fmt.Errorf("the portal's certificate is sha256:%x, not the pinned %s", sum, fingerprint)
			}
			return nil
		}
	}
	jar, _ := cookiejar.New(nil)
	return &portal{base: u, http: &http.Client{Jar: jar, Timeout: portalTimeout, Transport: &http.Transport{TLSClientConfig: tc},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

// Sign-in refusals, each saying what the officer can do about it.
var (
	ErrSignIn        = errors.New("the portal refused the user name or password")
	ErrSecondFactor  = errors.New("the portal refused the TOTP or recovery code")
	ErrSignInLimited = errors.New("too many sign-in attempts from here or for this account; wait a minute")
	ErrFirstSignIn   = errors.New("this account's first sign-in is not finished: sign in once in the browser (new password, TOTP enrolment)")
)

func (p *portal) csrf() string {
	for _, c := range p.http.Jar.Cookies(p.base) {
		if c.Name == csrfCookie {
			return c.Value
		}
	}
	return ""
}

// send makes a request with the CSRF token; body is a form (url.Values)
// or JSON (anything else).
func (p *portal) send(ctx context.Context, method, path string, body any) (*http.Response, []byte, error) {
	var r io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		r, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, nil, err
		}
		r, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base.JoinPath(path).String(), r)
	if err != nil {
		return nil, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("X-CSRF-Token", p.csrf())
	req.Header.Set("Accept-Language", "en")
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("portal: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("portal: %w", err)
	}
	return resp, b, nil
}

// signIn signs username in with password and code (a TOTP code or an
// unused recovery code), as the sign-in pages do.
func (p *portal) signIn(ctx context.Context, username, password, code string) error {
	if _, _, err := p.send(ctx, http.MethodGet, "/login", nil); err != nil { // the CSRF cookie
		return err
	}
	resp, _, err := p.send(ctx, http.MethodPost, "/login", url.Values{"username": {username}, "password": {password}})
	if err != nil {
		return err
	}
	if err := signInStep(resp, ErrSignIn); err != nil {
		return err
	}
	switch next := resp.Header.Get("Location"); next {
	case "/totp":
	case "/password", "/totp/enroll":
		return ErrFirstSignIn
	default:
		return fmt.Errorf("portal: sign-in went on to %q, not to the TOTP challenge", next)
	}
	resp, _, err = p.send(ctx, http.MethodPost, "/totp", url.Values{"code": {code}})
	if err != nil {
		return err
	}
	if err := signInStep(resp, ErrSecondFactor); err != nil {
		return err
	}
	if next := resp.Header.Get("Location"); next != "/" {
		return fmt.Errorf("portal: the TOTP step went on to %q", next)
	}
	return nil
}

func signInStep(resp *http.Response, refused error) error {
	switch resp.StatusCode {
	case http.StatusSeeOther:
		return nil
	case http.StatusUnauthorized:
		return refused
	case http.StatusTooManyRequests:
		return ErrSignInLimited
	}
	return fmt.Errorf("portal: sign-in answered %s", resp.Status)
}

// signOut ends the session.
func (p *portal) signOut(ctx context.Context) {
	p.send(ctx, http.MethodPost, "/logout", url.Values{})
}

// license is the license endpoint's answer (outer/license.License).
type license struct {
	ServerKey     []byte `json:"server_key"`
	Salt          []byte `json:"salt"`
	Info          string `json:"info"`
	IV            []byte `json:"iv"`
	WrappedKey    []byte `json:"wrapped_key"`
	PayloadOffset int64  `json:"payload_offset"`
	PayloadSize   int64  `json:"payload_size"`
	Play          int    `json:"play"`
	MaxPlays      int    `json:"max_plays"`
}

// payloadKey asks for package id's license with a fresh ECDH P-256 key
// pair of ours and unwraps the payload key from it. The caller clears it.
func (p *portal) payloadKey(ctx context.Context, id string) ([]byte, *license, error) {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	resp, b, err := p.send(ctx, http.MethodPost, "/packages/"+id+"/license", map[string][]byte{"public_key": priv.PublicKey().Bytes()})
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var refusal struct{ Message string }
		json.Unmarshal(b, &refusal)
		if refusal.Message == "" {
			refusal.Message = resp.Status
		}
		return nil, nil, fmt.Errorf("the portal refused the license: %s (%d)", refusal.Message, resp.StatusCode)
	}
	var lic license
	if err := json.Unmarshal(b, &lic); err != nil {
		return nil, nil, fmt.Errorf("portal: license: %w", err)
	}
	key, err := unwrapLicense(priv, &lic, id)
	return key, &lic, err
}

// unwrapLicense is the page's unwrapping (docs/portal.md): ECDH with the
// server's ephemeral key, HKDF-SHA256 to the wrapping key, AES-256-GCM.
func unwrapLicense(priv *ecdh.PrivateKey, lic *license, id string) ([]byte, error) {
	if lic.Info != "sealgate license v1 "+id {
		return nil, fmt.Errorf("portal: a license for %q, not for this package", lic.Info)
	}
	server, err := ecdh.P256().NewPublicKey(lic.ServerKey)
	if err != nil {
		return nil, fmt.Errorf("portal: license: %w", err)
	}
	secret, err := priv.ECDH(server)
	if err != nil {
		return nil, fmt.Errorf("portal: license: %w", err)
	}
	defer clear(secret)
	kek, err := hkdf.Key(sha256.New, secret, lic.Salt, lic.Info, 32)
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil || len(lic.IV) != gcm.NonceSize() {
		return nil, errors.New("portal: license: malformed wrap")
	}
	key, err := gcm.Open(nil, lic.IV, lic.WrappedKey, []byte(lic.Info))
	if err != nil {
		return nil, errors.New("portal: the license's key does not unwrap")
	}
	return key, nil
}

// licensed signs the officer in at the portal and obtains the verified
// package p's payload key by license: the package's id at the portal is
// the SHA-256 of its file, and the portal checks, as for the browser
// player, that it is addressed to this officer, inside its window and
// within the play count. The session ends when the key is in hand.
func (c *keyFlags) licensed(ctx context.Context, e *env, f *os.File, p *seal.Package, password string) (*seal.Key, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("hash %s: %w", c.Package, err)
	}
	id := hex.EncodeToString(h.Sum(nil))
	pc, err := newPortal(c.Portal, c.PortalPin)
	if err != nil {
		return nil, err
	}
	// Signed out whatever happens, a sign-in left half-way included.
	defer pc.signOut(context.WithoutCancel(ctx))
	if err := pc.signIn(ctx, c.Username, password, c.TOTP); err != nil {
		return nil, err
	}
	key, lic, err := pc.payloadKey(ctx, id)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	if lic.PayloadOffset != p.PayloadOffset || lic.PayloadSize != p.PayloadSize {
		return nil, fmt.Errorf("the portal's license describes another payload (offset %d, size %d) than this package's", lic.PayloadOffset, lic.PayloadSize)
	}
	fmt.Fprintf(e.stdout, "Licensed by %s: play %d of %d.\n", c.Portal, lic.Play, lic.MaxPlays)
	return p.KeyFromPayloadKey(key)
}
