-- A viewing period longer than 30 days needs an admin's approval beside
-- the approver's decision (inner/export, ApproveViewing).
ALTER TABLE export
    ADD COLUMN viewing_approved_by text,
    ADD COLUMN viewing_approved_at timestamptz,
    ADD COLUMN viewing_reason      text NOT NULL DEFAULT '' CHECK (length(viewing_reason) <= 1000);
