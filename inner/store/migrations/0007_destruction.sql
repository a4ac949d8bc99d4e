-- Destruction receipts (inner/outbox, transfer/send): after a delivered
-- package's viewing window ends (and at a low rate before, for a
-- revocation) the sender asks the outer what became of it; a destroyed
-- package's signed status reply (142 bytes: transfer.StatusReplySize) is
-- kept here, beside the delivery receipt, as the proof that the copy is
-- gone. transfer.VerifyDestruction checks it against the outer's transfer
-- key. The signed manifest's viewing window and watermark are recorded
-- at queueing: when to ask, and which ledger row the package carries.
ALTER TABLE outbox
    ADD COLUMN view_until           timestamptz,
    ADD COLUMN watermark            text NOT NULL DEFAULT '' CHECK (watermark ~ '^([0-9a-f]{16})?$'),
    ADD COLUMN next_query_at        timestamptz, -- NULL: due at once
    ADD COLUMN queried_at           timestamptz, -- the outer's last answer
    ADD COLUMN outer_state          text CHECK (outer_state IN ('held', 'destroyed', 'unknown')),
    ADD COLUMN query_error          text NOT NULL DEFAULT '',
    ADD COLUMN destroyed_at         timestamptz,
    ADD COLUMN destruction_reason   text CHECK (destruction_reason IN ('viewing_period_ended', 'revoked', 'other')),
    ADD COLUMN destruction_receipt  bytea CHECK (length(destruction_receipt) = 142),
    ADD COLUMN destruction_verified boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT outbox_destruction_check CHECK (
        destruction_verified = (destruction_receipt IS NOT NULL)
        AND destruction_verified = (destroyed_at IS NOT NULL)
        AND destruction_verified = (destruction_reason IS NOT NULL)
        AND (NOT destruction_verified OR (state = 'delivered' AND outer_state = 'destroyed')));
CREATE INDEX outbox_query_due ON outbox (next_query_at) WHERE state = 'delivered' AND NOT destruction_verified;
CREATE INDEX outbox_watermark ON outbox (watermark) WHERE watermark <> '';
-- Packages queued by the export pipeline before this: their ledger row
-- through the export that queued them.
UPDATE outbox o SET watermark = lpad(to_hex((l.appliance::bigint << 48) | l.serial), 16, '0')
    FROM export e JOIN ledger l ON l.serial = e.serial
    WHERE e.outbox_id = o.id;
