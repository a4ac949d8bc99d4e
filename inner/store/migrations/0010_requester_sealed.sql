-- Requesters' personal data at rest (docs/ledger.md, "Personal data"):
-- the requesting officer's name and phone are AES-256-GCM under pii.key
-- (shared/account PII), the associated data binding each value to its
-- column and to "export/<id>", so a value copied to another row does not
-- open. requester_name_index is the keyed blind index (HMAC-SHA256 of the
-- case- and space-folded name) the ledger's requester filter matches.
ALTER TABLE export
    ADD COLUMN requester_name_sealed  bytea,
    ADD COLUMN requester_phone_sealed bytea,
    ADD COLUMN requester_name_index   bytea CHECK (length(requester_name_index) = 32);
CREATE INDEX export_requester_name ON export (requester_name_index);

-- SQL holds no key, so the plaintext of rows filed before this version
-- moves aside and leaves the export table; inner/requester SealLegacy
-- seals each row and deletes its plaintext here, at the daemon's start
-- and before any export is read.
CREATE TABLE export_requester_legacy (
    export_id bigint PRIMARY KEY REFERENCES export (id),
    name      text   NOT NULL,
    phone     text   NOT NULL
);
INSERT INTO export_requester_legacy (export_id, name, phone) SELECT id, requester_name, requester_phone FROM export;
ALTER TABLE export DROP COLUMN requester_name, DROP COLUMN requester_phone;
