-- The audit log (shared/audit). It is append-only: the database itself
-- refuses changes, and each entry's MAC covers the previous entry's.
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
