-- Licenses released to the browser player (outer/license): one row per
-- play, counted against license.max_plays per officer and package. The
-- package's row is locked while counting, so two requests cannot both take
-- the last play. Rows stay after the package is destroyed: they are the
-- record of who played it, when and from where.
CREATE TABLE plays (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    package     bytea       NOT NULL REFERENCES packages (sha256),
    account     text        NOT NULL,
    session     bytea       NOT NULL, -- the session's id hash: the media route serves that session only
    released_at timestamptz NOT NULL DEFAULT now(),
    remote      text        NOT NULL DEFAULT ''
);
CREATE INDEX plays_by_account ON plays (package, account);
