// Package transfer is the one-way protocol between the inner appliance
// (sender) and the outer appliance (receiver): sealed packages go out, and
// the only bytes that come back are fixed-size replies the outer signs.
//
// # Connection
//
// QUIC (RFC 9000) over UDP, TLS 1.3 with ALPN [ALPN]. Only the inner side
// dials. Both sides present their transfer identity (keys.TransferCert) and
// accept only the peer whose key fingerprint they pinned at pairing — no CA,
// no trust on first use. The inner's QUIC config allows the peer to open no
// stream of either kind (MaxIncomingStreams and MaxIncomingUniStreams -1),
// so the outer cannot send a request inward; the outer accepts
// bidirectional streams only, up to the configured parallelism. 0-RTT and
// datagrams are off. Keep-alives every [KeepAlive] let both notice a dead link.
//
// # Per package (one stream, opened by the inner)
//
//	inner → outer  Offer  "SGT1" | 0x01 | package SHA-256 (32) | size (8)        45 bytes
//	outer → inner  Reply  status CONTINUE with the offset it holds,              110 bytes
//	                      or ALREADY (stored before), or REFUSED with a reason
//	inner → outer  the package's bytes from that offset to the end, then FIN
//	outer → inner  Reply  status STORED (the receipt), or REFUSED with a reason  110 bytes
//
// A package is identified by the SHA-256 of its file, so a package sent
// twice is stored once. The outer writes incoming bytes to a partial file;
// after a cut link the next offer resumes where the fsynced partial ends.
// When all bytes are in, the outer checks the SHA-256 and the package's
// signature against the inner's pinned signing key, fsyncs, renames it
// into the store, records it, and only then sends STORED.
//
// # Replies
//
//	"SGR1" | status (1) | reason (1) | package SHA-256 (32) | offset (8) | Ed25519 signature (64) = 110 bytes
//
// The signature, by the outer's transfer key (the one pinned in the TLS
// handshake), covers "sealgate transfer v1 reply" ‖ 0x00 ‖ the first 46
// bytes. The inner's reader ([ParseReply]) accepts exactly this and nothing
// else: a wrong length, magic, status, reason, package or signature ends the
// connection.
package transfer

import "time"

// ALPN names the protocol and its version in the TLS handshake.
const ALPN = "sealgate-transfer/2"

// ProtocolVersion is bumped with any wire-incompatible change.
const ProtocolVersion = 2

// KeepAlive is how often an idle connection sends a PING.
const KeepAlive = 5 * time.Second

// IdleTimeout ends a connection that heard nothing for this long; the
// sender then reconnects and resumes.
const IdleTimeout = 30 * time.Second

// Application error codes closing a connection or stream.
const (
	CodeOK          = 0
	CodeProtocol    = 0x1001 // a malformed or unexpected message
	CodeUnpaired    = 0x1002
	CodeShuttingOff = 0x1003
	CodeReplaced    = 0x1004 // a newer stream took the lane over
	CodeStalled     = 0x1005 // the sender gave up a connection that stopped moving
)
