-- Two approvals beside the request's decision (inner/export):
-- a viewing period longer than 30 days needs an admin's approval first
-- (ApproveViewing), and a masked export whose leak check needs a look
-- waits in state checking until an approver releases it (Release) or
-- sends it back to the review editor (SendBack: state reviewing, with the
-- review workspace it renders again from).
ALTER TABLE export
    ADD COLUMN viewing_approved_by text,
    ADD COLUMN viewing_approved_at timestamptz,
    ADD COLUMN viewing_reason      text NOT NULL DEFAULT '' CHECK (length(viewing_reason) <= 1000),
    ADD COLUMN leak_report         jsonb, -- the render's leak check: frames checked, suspect frames
    ADD COLUMN released_by         text,
    ADD COLUMN released_at         timestamptz,
    ADD COLUMN review_id           text CHECK (review_id ~ '^[0-9a-f]{16}$'),
    DROP CONSTRAINT export_state_check,
    ADD CONSTRAINT export_state_check CHECK (state IN ('requested', 'approved', 'transcoding', 'rendering', 'checking', 'reviewing',
        'sealing', 'queued', 'ready', 'delivered', 'rejected', 'cancelled', 'failed'));
