-- The export ledger (반출관리대장, inner/ledger Search): what the render
-- masked, counted from its plan (tracks by kind, not counting those a
-- reviewer excluded; tracks drawn by hand; tracks excluded), NULL until
-- the export is rendered and for an export that was never masked.
ALTER TABLE export
    ADD COLUMN masked_faces    integer CHECK (masked_faces >= 0),
    ADD COLUMN masked_plates   integer CHECK (masked_plates >= 0),
    ADD COLUMN masked_people   integer CHECK (masked_people >= 0),
    ADD COLUMN manual_tracks   integer CHECK (manual_tracks >= 0),
    ADD COLUMN excluded_tracks integer CHECK (excluded_tracks >= 0);
-- The ledger pages in filing order with a keyset cursor (requested_at,
-- id), and in decision order; an agency's rows; a camera's footage's
-- exports. Each keeps a page of a ledger of 500,000 rows well under 200 ms
-- (docs/ledger.md, "Search at scale").
CREATE INDEX export_requested ON export (requested_at DESC, id DESC);
CREATE INDEX export_decided ON export (decided_at DESC, id DESC) WHERE decided_at IS NOT NULL;
CREATE INDEX export_agency ON export (lower(requester_agency), requested_at DESC, id DESC);
CREATE INDEX export_footage ON export (footage_id);
CREATE INDEX export_reason ON export (reason_code, requested_at DESC, id DESC);
