-- Sealed packages queued for the paired outer appliance (inner/outbox).
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256          bytea       NOT NULL UNIQUE CHECK (length(sha256) = 32), -- of the package file
    path            text        NOT NULL,
    size            bigint      NOT NULL CHECK (size > 0),
    priority        integer     NOT NULL DEFAULT 0, -- higher first
    state           text        NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'delivered', 'refused')),
    attempts        integer     NOT NULL DEFAULT 0, -- claims
    refusals        integer     NOT NULL DEFAULT 0, -- refusals that back off (quota, disk, hash mismatch)
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_at      timestamptz,
    last_error      text        NOT NULL DEFAULT '',
    resumed_bytes   bigint      NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX outbox_due ON outbox (priority DESC, created_at) WHERE state IN ('queued', 'sending');
