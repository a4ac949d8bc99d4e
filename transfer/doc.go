// Package transfer is the one-way protocol between the inner appliance
// (sender) and the outer appliance (receiver): sealed packages go out, and
// the only bytes that come back are fixed-size replies the outer signs.
//
// # Connections
//
// QUIC (RFC 9000) over UDP, TLS 1.3 with ALPN [ALPN]. Only the inner side
// dials. Both sides present their transfer identity (keys.TransferCert) and
// accept only the peer whose key fingerprint they pinned at pairing — no CA,
// no trust on first use. The inner's QUIC config allows the peer to open no
// stream of either kind (MaxIncomingStreams and MaxIncomingUniStreams -1),
// so the outer cannot send a request inward; the outer accepts
// bidirectional streams only, up to the configured parallelism per
// connection. 0-RTT and datagrams are off. Keep-alives every [KeepAlive]
// let both notice a dead link; [IdleTimeout] ends a silent connection.
//
// The inner keeps a pool of connections (64 by default) from one UDP
// socket. quic-go's congestion control is loss-based (Cubic): one
// connection across a lossy wide-area path runs at a fraction of the link,
// and n connections run about n times as fast. The pool also watches its
// connections: when every busy one has waited 2 s without
// progress, it starts a fresh handshake every 250 ms; the first that
// completes proves the path is back, and the stalled connections are
// closed (code [CodeStalled]) so their lanes continue at once on fresh
// ones rather than after QUIC's retransmission backoff.
//
// # Lanes
//
// A package of size bytes is split into lanes (1 ≤ lanes ≤ [MaxLanes],
// about one per MiB): lane i holds bytes [size·i/lanes, size·(i+1)/lanes)
// ([LaneRange]). Each lane goes on a stream of its own; the connections
// take lanes as they free up, so a slow connection delays a package by one
// lane at most.
//
// # Per lane (one stream, opened by the inner)
//
//	inner → outer  Offer  "SGT2" | 0x01 | package SHA-256 (32) | size (8) | lanes (1) | lane (1)   47 bytes
//	outer → inner  Reply  CONTINUE with the offset where the lane continues,                       111 bytes
//	                      or HELD (the lane is in), ALREADY (package stored before),
//	                      STORED (the lane completed the package: the receipt),
//	                      or REFUSED with a reason
//	inner → outer  after CONTINUE: the lane's bytes from that offset to its end, then FIN
//	outer → inner  Reply  HELD, STORED (the receipt) or REFUSED                                    111 bytes
//
// A package is identified by the SHA-256 of its file, so a package sent
// twice is stored once. The outer reserves the package's size in
// incoming/<sha256>.partial and writes each lane at its offsets; a record
// beside it (incoming/<sha256>.lanes, CRC-checked) says how far each lane
// has arrived and is written only after the bytes it counts. After a cut
// link or a restart of either side, each lane resumes where the outer's
// copy of it ends. A newer offer of a lane by the same peer takes the lane
// over from an older stream (which it cancels with [CodeReplaced]): the
// inner only offers a lane again after giving up the old stream, which the
// outer may not have noticed yet. An offer with another lane count than
// the partial's starts the package over.
//
// While lanes arrive, the outer hashes the package and verifies its
// signature against the inner's pinned signing key over the prefix it
// holds without a gap. When the last lane is in, it waits for that
// verdict, fsyncs the file, renames it into the store, fsyncs the
// directory, records it, and only then answers STORED on the stream that
// completed it. An inner that saw every lane HELD but no receipt (the
// completing stream was lost) offers any lane again and gets STORED or
// ALREADY.
//
// # Replies
//
//	"SGR2" | status (1) | reason (1) | package SHA-256 (32) | lane (1) | offset (8) | Ed25519 signature (64) = 111 bytes
//
// The signature, by the outer's transfer key (the one pinned in the TLS
// handshake), covers "sealgate transfer v2 reply" ‖ 0x00 ‖ the first 47
// bytes. The inner's reader ([ParseReply]) accepts exactly this and nothing
// else: a wrong length, magic, status, reason, package, lane or signature
// fails the package; a CONTINUE offset outside the lane ends the stream.
//
// # Status queries (one stream, opened by the inner)
//
//	inner → outer  Query        "SGT2" | 0x02 | package SHA-256 (32)                                        37 bytes
//	outer → inner  StatusReply  "SGD3" | state (1) | reason (1) | package SHA-256 (32) | destroyed at,
//	                            unix seconds (8) | SHA-256 of the reason text (32) | first viewed, unix
//	                            seconds (8) | downloads (4) | plays (4) | Ed25519 signature (64)         158 bytes
//
// The receiver tells a query from an offer by the type byte after the
// magic ([ReadRequest]). It answers from its packages table: held,
// destroyed (with the time, a reason code — viewing period ended, revoked
// by an admin, other — and the SHA-256 of the reason text, which stays on
// the outer) or unknown. A package another paired inner delivered is
// answered unknown, as one never received is. An outer that cannot read
// its records resets the stream ([CodeUnavailable]) and the inner asks
// again later. The signature, by the outer's transfer key, covers
// "sealgate transfer v3 destruction status" ‖ 0x00 ‖ the first 94 bytes,
// so a status reply and a lane's Reply can never stand for each other.
// The use counts are the export ledger's delivery columns: when an
// addressed officer first downloaded or played the package, the downloads
// that began at its first byte (a resumed one is the same download), and
// the plays the license service released.
// [ParseStatusReply] accepts exactly this: held and unknown carry no
// reason, time or text hash; destroyed carries a reason and a time;
// unknown carries no use, and counts need a first view. A
// destroyed reply is the destruction receipt the inner keeps
// ([VerifyDestruction] checks it again later). The outer still opens
// nothing: the inner asks, on its own connections, when it chooses.
//
// # Refusals
//
// bad_package (does not verify) and too_large are final; hash_mismatch
// (bytes differ from the offer: the partial is discarded and the package
// sent again from zero), quota_full, disk_full (the space is reserved up
// front, so a full disk is refused before a byte flows) and internal are
// retried with a capped exponential backoff; busy (a lane held by another
// peer's stream, or one that would not let go) is retried at once.
package transfer

import "time"

// ALPN names the protocol and its version in the TLS handshake.
const ALPN = "sealgate-transfer/3"

// ProtocolVersion is bumped with any wire-incompatible change.
const ProtocolVersion = 3

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
	CodeUnavailable = 0x1006 // the outer cannot answer a status query now; ask later
)
