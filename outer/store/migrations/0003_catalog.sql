-- What the officers' catalog shows of each package, copied from its
-- signed manifest when the receiver keeps it (outer/pkgstore.Stored): the
-- camera, the footage's time range, the legal reason, who signed it, the
-- recipient's agency, and what the sealed video is. No backfill: no
-- packages were held before this (docs/portal.md, "Catalog and download").
ALTER TABLE packages
    ADD COLUMN camera_name     text NOT NULL DEFAULT '',
    ADD COLUMN camera_location text NOT NULL DEFAULT '',
    ADD COLUMN time_from       timestamptz,
    ADD COLUMN time_to         timestamptz,
    ADD COLUMN reason_code     text NOT NULL DEFAULT '',
    ADD COLUMN signer_key_id   text NOT NULL DEFAULT '',
    ADD COLUMN agency          text NOT NULL DEFAULT '',
    ADD COLUMN media_type      text NOT NULL DEFAULT '',
    ADD COLUMN file_name       text NOT NULL DEFAULT '';
-- The catalog lists one officer's packages.
CREATE INDEX packages_recipient ON packages (recipient, received_at DESC);
