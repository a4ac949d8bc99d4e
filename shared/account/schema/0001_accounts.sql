-- Accounts (shared/account): the users of a daemon, their recovery codes
-- and their sessions. Roles are the daemon's (account.Config.Roles) and are
-- checked in Go when a user is created or changed, so one table serves both
-- daemons.
CREATE TABLE users (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username             text        NOT NULL UNIQUE
                         CONSTRAINT users_username_check CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,31}$'),
    role                 text        NOT NULL,
    password_hash        text        NOT NULL,
    must_change_password boolean     NOT NULL DEFAULT true,
    disabled             boolean     NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    failed_logins        integer     NOT NULL DEFAULT 0,
    locked_until         timestamptz,
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    totp_secret          bytea,       -- AES-256-GCM under pii.key; set once confirmed
    totp_pending         bytea,       -- a secret being enrolled, not yet confirmed
    totp_last_step       bigint      NOT NULL DEFAULT 0, -- refuses a code used twice
    -- Personal data, AES-256-GCM under pii.key; *_index are keyed blind
    -- indexes (HMAC-SHA256) for exact-match search.
    full_name            bytea,
    full_name_index      bytea,
    phone                bytea,
    phone_index          bytea,
    affiliation          bytea
);
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
