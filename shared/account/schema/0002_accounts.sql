-- Accounts, sessions and the audit log (shared/account, shared/audit): version 2
-- of both daemons' schemas, on top of their own 0001 users table.

ALTER TABLE users
    ADD COLUMN failed_logins       integer     NOT NULL DEFAULT 0,
    ADD COLUMN locked_until        timestamptz,
    ADD COLUMN password_changed_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN totp_secret         bytea,       -- AES-256-GCM under pii.key; set once confirmed
    ADD COLUMN totp_pending        bytea,       -- a secret being enrolled, not yet confirmed
    ADD COLUMN totp_last_step      bigint      NOT NULL DEFAULT 0, -- refuses a code used twice
    -- Personal data, AES-256-GCM under pii.key; *_index are keyed blind
    -- indexes (HMAC-SHA256) for exact-match search.
    ADD COLUMN full_name           bytea,
    ADD COLUMN full_name_index     bytea,
    ADD COLUMN phone               bytea,
    ADD COLUMN phone_index         bytea,
    ADD COLUMN affiliation         bytea;
CREATE INDEX users_full_name_index ON users (full_name_index);
CREATE INDEX users_phone_index ON users (phone_index);

CREATE TABLE recovery_codes (
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea  NOT NULL, -- SHA-256: the codes are random, 60 bits
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    id_hash    bytea       PRIMARY KEY, -- SHA-256 of the cookie's token
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage      text        NOT NULL CHECK (stage IN ('password', 'totp_enroll', 'totp', 'ok')),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    remote     text        NOT NULL DEFAULT '',
    user_agent text        NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- The audit log is append-only: the database itself refuses changes, and
-- each entry's MAC covers the previous entry's (shared/audit).
CREATE TABLE audit_log (
    seq      bigint      PRIMARY KEY,
    at       timestamptz NOT NULL,
    actor    text        NOT NULL,
    action   text        NOT NULL,
    target   text        NOT NULL DEFAULT '',
    outcome  text        NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    remote   text        NOT NULL DEFAULT '',
    detail   text        NOT NULL DEFAULT '',
    mac      bytea       NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
