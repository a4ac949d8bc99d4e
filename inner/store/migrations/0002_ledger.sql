-- The export ledger (inner/ledger): one row per marked copy this appliance
-- has issued. The serial is the low 48 bits of the copy's forensic
-- watermark, so a trace of a leaked copy finds its row. Rows are never
-- deleted; a copy that failed to render keeps its serial, marked failed.
CREATE TABLE ledger (
    serial        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY
                  CHECK (serial > 0 AND serial < 281474976710656), -- 2^48
    appliance     integer     NOT NULL CHECK (appliance BETWEEN 1 AND 65535),
    requester     text        NOT NULL CHECK (length(requester) BETWEEN 1 AND 200),
    reason        text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    issued_by     text        NOT NULL, -- console user, or "cli"
    issued_at     timestamptz NOT NULL DEFAULT now(),
    source_name   text        NOT NULL,
    source_sha256 bytea       NOT NULL CHECK (length(source_sha256) = 32),
    state         text        NOT NULL DEFAULT 'rendering'
                  CHECK (state IN ('rendering', 'issued', 'failed')),
    output_sha256 bytea       CHECK (length(output_sha256) = 32),
    frames        integer,
    psnr_db       real,
    error         text        NOT NULL DEFAULT '',
    finished_at   timestamptz,
    CHECK ((state = 'issued') = (output_sha256 IS NOT NULL))
);
