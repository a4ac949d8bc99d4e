-- What the addressed officers did with a package, for the inner's export
-- ledger (transfer.Use in the status reply, docs/transfer.md): downloads
-- that began at the first byte (a resumed one, a Range further on, is the
-- same download) and when the first began. Plays are the plays table's
-- rows. Kept after destruction: the receipt reports the final counts.
ALTER TABLE packages
    ADD COLUMN downloads         integer     NOT NULL DEFAULT 0 CHECK (downloads >= 0),
    ADD COLUMN first_download_at timestamptz;
