-- Review workspaces: one per clip an operator masks and checks before
-- export (docs/masking.md, "Review"). Kept in the database, not beside the
-- clip, so every inner node that shares the database sees the same drafts.
CREATE TABLE review_workspaces (
    id            text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
    name          text NOT NULL,
    source_sha256 bytea NOT NULL CHECK (length(source_sha256) = 32),
    detect        text[] NOT NULL,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    state         text NOT NULL DEFAULT 'analysing' CHECK (state IN ('analysing', 'ready', 'failed')),
    error         text NOT NULL DEFAULT '',
    progress      smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    -- An analysis in progress holds a lease; one whose node died is taken
    -- up again by another once the lease has run out.
    lease_until   timestamptz,
    draft         bytea,           -- the reviewer's working copy of the plan (JSON)
    draft_version integer NOT NULL DEFAULT 0,
    edited        boolean NOT NULL DEFAULT false,
    plan          bytea,           -- the saved plan, what an export renders with
    plan_sha256   bytea CHECK (plan_sha256 IS NULL OR length(plan_sha256) = 32),
    saved_by      text NOT NULL DEFAULT '',
    saved_at      timestamptz,
    CHECK ((state = 'ready') = (draft IS NOT NULL))
);

CREATE INDEX review_workspaces_created ON review_workspaces (created_at DESC);
CREATE INDEX review_workspaces_analysing ON review_workspaces (created_at) WHERE state = 'analysing';
