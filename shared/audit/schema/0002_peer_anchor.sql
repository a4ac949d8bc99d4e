-- The paired appliance's audit anchors (shared/audit PeerAnchors,
-- docs/transfer.md "Audit anchors"): the outer keeps each inner's, the
-- inner the outer's, so neither side's insiders can rewrite or truncate
-- their own chain without the other holding its earlier head. Sig is the
-- anchoring side's HMAC, checked there (audit verify --anchor). On the
-- inner, reply is the outer's signed answer: proof the outer holds
-- (seq, mac). Append-only, like the log.
CREATE TABLE peer_anchor (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    peer        text        NOT NULL,
    seq         bigint      NOT NULL CHECK (seq > 0),
    mac         bytea       NOT NULL CHECK (length(mac) = 32),
    head_at     timestamptz NOT NULL,
    anchored_at timestamptz NOT NULL,
    sig         bytea       NOT NULL CHECK (length(sig) = 32),
    reply       bytea,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (peer, seq, mac, anchored_at)
);
CREATE INDEX peer_anchor_latest ON peer_anchor (peer, anchored_at DESC);
