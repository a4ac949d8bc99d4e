package opener

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"

	"sealgate/shared/seal"
)

// licenseInfo starts the HKDF info of a license; the package id follows
// (outer/license: the same derivation the browser player makes).
const licenseInfo = "sealgate license v1 "

// license is the portal's answer (outer/license.License): the payload key
// wrapped to the key this request made.
type license struct {
	ServerKey  []byte `json:"server_key"`
	Salt       []byte `json:"salt"`
	Info       string `json:"info"`
	IV         []byte `json:"iv"`
	WrappedKey []byte `json:"wrapped_key"`
	Play       int    `json:"play"`
	MaxPlays   int    `json:"max_plays"`
}

// portalRefusal is the portal's JSON refusal, in the officer's language.
type portalRefusal struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// ErrPortalRefused: the portal would not release the key.
var ErrPortalRefused = errors.New("the portal refused to release the key")

// license asks the portal for package id's key with an ephemeral P-256
// key pair made for this one request, and unwraps the answer: ECDH,
// HKDF-SHA256 with the portal's salt and an info that must name this
// package, AES-256-GCM. The key is checked against the package's first
// chunk before it is used.
func (p *portal) license(ctx context.Context, pkg *seal.Package, f *os.File, id string) (*seal.Key, *license, error) {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	req, _ := json.Marshal(map[string][]byte{"public_key": priv.PublicKey().Bytes()})
	body, status, err := p.postJSON(ctx, "/packages/"+id+"/license", req, 64<<10)
	if err != nil {
		return nil, nil, err
	}
	if status != http.StatusOK {
		var r portalRefusal
		if json.Unmarshal(body, &r) == nil && r.Message != "" {
			return nil, nil, fmt.Errorf("%w: %s (%d %s)", ErrPortalRefused, r.Message, status, r.Error)
		}
		return nil, nil, fmt.Errorf("%w: %d %s", ErrPortalRefused, status, http.StatusText(status))
	}
	var lic license
	if err := json.Unmarshal(body, &lic); err != nil {
		return nil, nil, fmt.Errorf("the portal's license does not parse: %w", err)
	}
	if lic.Info != licenseInfo+id {
		return nil, nil, fmt.Errorf("the portal's license names another package (%q)", lic.Info)
	}
	server, err := ecdh.P256().NewPublicKey(lic.ServerKey)
	if err != nil {
		return nil, nil, fmt.Errorf("the portal's license key: %w", err)
	}
	secret, err := priv.ECDH(server)
	if err != nil {
		return nil, nil, err
	}
	defer clear(secret)
	kek, err := hkdf.Key(sha256.New, secret, lic.Salt, lic.Info, 32)
	if err != nil {
		return nil, nil, err
	}
	defer clear(kek)
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, err
	}
	if len(lic.IV) != gcm.NonceSize() {
		return nil, nil, errors.New("the portal's license has a malformed IV")
	}
	payloadKey, err := gcm.Open(nil, lic.IV, lic.WrappedKey, []byte(lic.Info))
	if err != nil {
		return nil, nil, errors.New("the portal's license does not unwrap with this request's key")
	}
	defer clear(payloadKey)
	k, err := pkg.KeyFromPayload(payloadKey, f)
	return k, &lic, err
}
