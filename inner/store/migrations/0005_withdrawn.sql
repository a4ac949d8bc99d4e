-- A marked copy that never leaves the inner: the approver sent it back to
-- review, or the export was cancelled after it was rendered. Its serial
-- stays taken and its row says so (withdrawn, by whom, why), so a copy
-- found later with that serial's mark is known to have leaked from here.
ALTER TABLE ledger
    ADD COLUMN withdrawn_by     text,
    ADD COLUMN withdrawn_at     timestamptz,
    ADD COLUMN withdrawn_reason text NOT NULL DEFAULT '' CHECK (length(withdrawn_reason) <= 1000),
    DROP CONSTRAINT ledger_state_check,
    ADD CONSTRAINT ledger_state_check CHECK (state IN ('rendering', 'issued', 'failed', 'withdrawn')),
    DROP CONSTRAINT ledger_check,
    ADD CONSTRAINT ledger_check CHECK ((state IN ('issued', 'withdrawn')) = (output_sha256 IS NOT NULL)),
    ADD CONSTRAINT ledger_withdrawn_check CHECK ((state = 'withdrawn') = (withdrawn_at IS NOT NULL));
