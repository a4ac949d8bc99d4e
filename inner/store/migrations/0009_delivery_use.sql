-- What the addressed officers did with a delivered package, as the outer's
-- last signed status reply said (transfer.Use, docs/transfer.md): when it
-- was first downloaded or played, the downloads begun and the plays the
-- license service released. The export ledger's delivery columns.
ALTER TABLE outbox
    ADD COLUMN first_viewed_at timestamptz,
    ADD COLUMN downloads       integer NOT NULL DEFAULT 0 CHECK (downloads >= 0),
    ADD COLUMN plays           integer NOT NULL DEFAULT 0 CHECK (plays >= 0);
-- Protocol 3's status reply is 158 bytes; receipts kept under protocol 2
-- (142) still verify (transfer.VerifyDestruction).
ALTER TABLE outbox DROP CONSTRAINT outbox_destruction_receipt_check,
    ADD CONSTRAINT outbox_destruction_receipt_check CHECK (length(destruction_receipt) IN (142, 158));
