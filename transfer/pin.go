package transfer

import (
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/quic-go/quic-go"

	"sealgate/shared/keys"
)

// ErrUnpaired reports a peer whose key was not pinned at pairing.
var ErrUnpaired = errors.New("transfer: peer is not paired")

// pinned checks the peer's certificate key against allowed fingerprints
// (keys.CertFingerprint); a CA plays no part. It is a VerifyConnection
// callback: crypto/tls calls that on every handshake, a resumed one too,
// where VerifyPeerCertificate is skipped (a peer unpaired since its last
// connection must not come back on a session ticket).
func pinned(allowed func(fingerprint string) bool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("%w: no certificate", ErrUnpaired)
		}
		cert := cs.PeerCertificates[0]
		if _, ok := cert.PublicKey.(ed25519.PublicKey); !ok {
			return fmt.Errorf("%w: not an Ed25519 transfer key", ErrUnpaired)
		}
		if fp := keys.CertFingerprint(cert); !allowed(fp) {
			return fmt.Errorf("%w: %s", ErrUnpaired, fp)
		}
		return nil
	}
}

// ClientTLS is the inner's TLS config: its identity, and the outer's pinned key.
func ClientTLS(identity tls.Certificate, outerFingerprint string) *tls.Config {
	return &tls.Config{
		Certificates:       []tls.Certificate{identity},
		MinVersion:         tls.VersionTLS13,
		NextProtos:         []string{ALPN},
		ServerName:         "sealgate-outer",
		InsecureSkipVerify: true, // no CA: VerifyConnection pins the key instead
		VerifyConnection:   pinned(func(fp string) bool { return fp == outerFingerprint }),
	}
}

// ServerTLS is the outer's TLS config: its identity, and the pinned keys of
// every paired inner appliance. No session tickets: every connection is a
// full handshake that proves the inner's key again.
func ServerTLS(identity tls.Certificate, paired func(fingerprint string) bool) *tls.Config {
	return &tls.Config{
		Certificates:           []tls.Certificate{identity},
		MinVersion:             tls.VersionTLS13,
		NextProtos:             []string{ALPN},
		ClientAuth:             tls.RequireAnyClientCert,
		VerifyConnection:       pinned(paired),
		SessionTicketsDisabled: true,
	}
}

// ClientQUIC is the inner's QUIC config: the outer may open no stream.
func ClientQUIC() *quic.Config {
	return &quic.Config{
		MaxIncomingStreams:    -1,
		MaxIncomingUniStreams: -1,
		KeepAlivePeriod:       KeepAlive,
		MaxIdleTimeout:        IdleTimeout,
		EnableDatagrams:       false,
		Allow0RTT:             false,
		// Large windows: a single stream then fills a fast link.
		InitialStreamReceiveWindow: 4 << 20, MaxStreamReceiveWindow: 32 << 20, MaxConnectionReceiveWindow: 64 << 20,
	}
}

// ServerQUIC is the outer's QUIC config: the inner may open up to streams
// bidirectional streams and no unidirectional ones.
func ServerQUIC(streams int64) *quic.Config {
	c := ClientQUIC()
	c.MaxIncomingStreams = streams
	return c
}

// PeerKey is the Ed25519 key of the peer's (already pinned) certificate.
func PeerKey(cs tls.ConnectionState) (ed25519.PublicKey, string, error) {
	if len(cs.PeerCertificates) == 0 {
		return nil, "", ErrUnpaired
	}
	cert := cs.PeerCertificates[0]
	key, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return nil, "", ErrUnpaired
	}
	return key, keys.CertFingerprint(cert), nil
}
