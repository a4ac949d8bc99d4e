-- What the outer needs of each package's signed manifest to serve and
-- destroy it (outer/pkgstore, outer/expiry): whom it is addressed to and
-- its viewing window. A package is destroyed (its file removed, the row
-- kept as the record) when the window ends or an admin revokes it.
ALTER TABLE packages
    ADD COLUMN export_id        text NOT NULL DEFAULT '',
    ADD COLUMN export_code      text NOT NULL DEFAULT '',
    ADD COLUMN recipient        text NOT NULL DEFAULT '', -- the officer's account at the portal
    ADD COLUMN view_from        timestamptz,
    ADD COLUMN view_until       timestamptz,
    ADD COLUMN destroyed_at     timestamptz,
    ADD COLUMN destroyed_by     text NOT NULL DEFAULT '',
    ADD COLUMN destroyed_reason text NOT NULL DEFAULT '' CHECK (length(destroyed_reason) <= 1000),
    ADD CONSTRAINT packages_destroyed_check CHECK ((state = 'destroyed') = (destroyed_at IS NOT NULL));
CREATE INDEX packages_due ON packages (view_until) WHERE state = 'available';
