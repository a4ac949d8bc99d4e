-- sealgate-inner schema, version 1: user accounts.
CREATE TABLE users (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username             text        NOT NULL UNIQUE
                         CONSTRAINT users_username_check CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,31}$'),
    role                 text        NOT NULL
                         CONSTRAINT users_role_check CHECK (role IN ('admin', 'operator', 'approver', 'auditor')),
    password_hash        text        NOT NULL,
    must_change_password boolean     NOT NULL DEFAULT true,
    disabled             boolean     NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now()
);
