package opener

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"sealgate/shared/web"
)

// portal is an officer's session at the outer portal, signed in through
// the same form steps a browser takes: the same per-account lockout, rate
// limits and audit as the pages, and no second door into the accounts.
type portal struct {
	base *url.URL
	http *http.Client
	jar  *cookiejar.Jar
}

// ErrPortalCert: the portal presented another certificate than the one the
// officer was told to expect.
var ErrPortalCert = errors.New("the portal's certificate is not the one named with --portal-cert")

// dialPortal prepares a client of the portal at rawURL. With a pin
// (sha256:… as the outer prints it at start and the admin pages show it),
// exactly that certificate is accepted, self-signed or not; without one,
// the system's roots must vouch for it.
func dialPortal(rawURL, pin string) (*portal, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("--portal %q: give the portal's https:// address", rawURL)
	}
	u.Path, u.RawQuery, u.Fragment = "", "", ""
	tc := &tls.Config{MinVersion: tls.VersionTLS13}
	if pin != "" {
		want, err := parsePin(pin)
		if err != nil {
			return nil, err
		}
		// The chain is not the point when the certificate itself is pinned:
		// a self-signed portal certificate is the usual case.
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return ErrPortalCert
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(got[:], want) != 1 {
				return fmt.Errorf("%w (it presented sha256:%s)", ErrPortalCert, hex.EncodeToString(got[:]))
			}
			return nil
		}
	} else {
		roots, err := x509.SystemCertPool()
		if err != nil {
			return nil, fmt.Errorf("system certificates: %w (or pass --portal-cert)", err)
		}
		tc.RootCAs = roots
	}
	jar, _ := cookiejar.New(nil)
	return &portal{base: u, jar: jar, http: &http.Client{
		Jar: jar, Timeout: 2 * time.Minute,
		Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true},
		// Each step's redirect says where sign-in goes on: read, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

func parsePin(pin string) ([]byte, error) {
	h, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(pin)), "sha256:")
	b, err := hex.DecodeString(h)
	if !ok || err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("--portal-cert %q: a certificate fingerprint is sha256: and 64 hex digits", pin)
	}
	return b, nil
}

// Errors of signing in, each with what the officer can do about it.
var (
	ErrSignIn      = errors.New("the portal refused the username or password (or the account is locked for a while)")
	ErrTOTP        = errors.New("the portal refused the one-time code")
	ErrSignInFirst = errors.New("this account has not finished its first sign-in: sign in once in the browser to set the password and the authenticator")
	ErrRateLimited = errors.New("the portal is limiting sign-in attempts from here: wait a minute")
)

// signIn gives the password, then the one-time code (asked for by code()
// only when the portal wants one), as the sign-in form does.
func (p *portal) signIn(ctx context.Context, username string, password []byte, code func() (string, error)) error {
	if _, _, err := p.do(ctx, http.MethodGet, "/login", nil, ""); err != nil { // the CSRF cookie
		return err
	}
	form := url.Values{"username": {username}, "password": {string(password)}}
	status, next, err := p.do(ctx, http.MethodPost, "/login", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if err != nil {
		return err
	}
	switch {
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status != http.StatusSeeOther:
		return ErrSignIn
	case next == "/password" || next == "/totp/enroll":
		return ErrSignInFirst
	case next != "/totp":
		return fmt.Errorf("the portal sent the sign-in to %q, not to the one-time code: is this a Sealgate portal?", next)
	}
	c, err := code()
	if err != nil {
		return err
	}
	status, next, err = p.do(ctx, http.MethodPost, "/totp", strings.NewReader(url.Values{"code": {c}}.Encode()), "application/x-www-form-urlencoded")
	switch {
	case err != nil:
		return err
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status != http.StatusSeeOther || next == "/login":
		return ErrTOTP
	}
	return nil
}

// signOut ends the session, so the portal's session list does not keep it.
func (p *portal) signOut(ctx context.Context) {
	p.do(ctx, http.MethodPost, "/logout", nil, "")
}

// do sends one request with the CSRF token a POST needs, and returns the
// status and, for a redirect, where to. A body is read only on success by
// call; here it is drained.
func (p *portal) do(ctx context.Context, method, path string, body io.Reader, contentType string) (int, string, error) {
	resp, err := p.request(ctx, method, path, body, contentType)
	if err != nil {
		return 0, "", err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

func (p *portal) request(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.base.JoinPath(path).String(), body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method != http.MethodGet {
		for _, ck := range p.jar.Cookies(p.base) {
			if ck.Name == web.CSRFCookie {
				req.Header.Set("X-CSRF-Token", ck.Value)
			}
		}
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("portal %s: %w", p.base.Host, err)
	}
	return resp, nil
}

// postJSON posts body as JSON and returns the response body of a 200, or
// an error naming the status and the portal's message.
func (p *portal) postJSON(ctx context.Context, path string, body []byte, limit int64) ([]byte, int, error) {
	resp, err := p.request(ctx, http.MethodPost, path, bytes.NewReader(body), "application/json")
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("portal %s: %w", p.base.Host, err)
	}
	return b, resp.StatusCode, nil
}
