-- The export workflow (inner/export): cameras, ingested footage, export
-- requests with their states and stages. Rows are never deleted: a camera
-- is retired, footage is marked deleted when its original is removed, an
-- export ends rejected, cancelled, failed or delivered.
CREATE TABLE camera (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    vms_id        text        NOT NULL DEFAULT '' CHECK (length(vms_id) <= 100),
    kind          text        NOT NULL DEFAULT 'fixed' CHECK (kind IN ('fixed', 'dome', 'ptz', 'bullet', 'other')),
    location      text        NOT NULL CHECK (length(location) BETWEEN 1 AND 300),
    latitude      double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude     double precision CHECK (longitude BETWEEN -180 AND 180),
    registered_by text        NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    retired_at    timestamptz,
    CHECK ((latitude IS NULL) = (longitude IS NULL))
);
-- Names are unique among cameras in service, whatever their case.
CREATE UNIQUE INDEX camera_name ON camera (lower(name)) WHERE retired_at IS NULL;

CREATE TABLE footage (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    camera_id    bigint      NOT NULL REFERENCES camera (id),
    file_name    text        NOT NULL, -- as uploaded or imported
    path         text        NOT NULL UNIQUE,
    size         bigint      NOT NULL CHECK (size > 0),
    sha256       bytea       NOT NULL CHECK (length(sha256) = 32), -- of the original, the integrity reference
    container    text        NOT NULL,
    codec        text        NOT NULL,
    width        integer     NOT NULL CHECK (width > 0),
    height       integer     NOT NULL CHECK (height > 0),
    fps          double precision NOT NULL CHECK (fps > 0),
    frames       integer     NOT NULL CHECK (frames > 0),
    duration_s   double precision NOT NULL CHECK (duration_s > 0),
    started_at   timestamptz, -- the recording's own start time, when the file carries one
    imported_by  text        NOT NULL,
    imported_at  timestamptz NOT NULL DEFAULT now(),
    retain_until timestamptz NOT NULL,
    deleted_at   timestamptz
);
CREATE INDEX footage_camera ON footage (camera_id, imported_at DESC);

CREATE TABLE export (
    id                   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    footage_id           bigint      NOT NULL REFERENCES footage (id),
    state                text        NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'approved', 'transcoding',
                         'rendering', 'sealing', 'queued', 'ready', 'delivered', 'rejected', 'cancelled', 'failed')),
    reason_code          text        NOT NULL CHECK (reason_code IN ('theft', 'assault', 'traffic_accident', 'missing_person',
                         'property_damage', 'other')),
    detail               text        NOT NULL CHECK (length(detail) BETWEEN 1 AND 2000),
    requester_name       text        NOT NULL CHECK (length(requester_name) BETWEEN 1 AND 100),
    requester_agency     text        NOT NULL CHECK (length(requester_agency) BETWEEN 1 AND 200),
    requester_phone      text        NOT NULL DEFAULT '',
    document_no          text        NOT NULL CHECK (length(document_no) BETWEEN 1 AND 100),
    recipient            text        NOT NULL CHECK (length(recipient) BETWEEN 1 AND 100),
    viewing_days         integer     NOT NULL CHECK (viewing_days BETWEEN 1 AND 365),
    clip_from_s          double precision NOT NULL DEFAULT 0 CHECK (clip_from_s >= 0),
    clip_to_s            double precision CHECK (clip_to_s > clip_from_s), -- NULL: to the end
    transcode            text        NOT NULL DEFAULT 'keep' CHECK (transcode IN ('keep', '720p')),
    masked               boolean     NOT NULL DEFAULT true,
    unmasked_reason      text        NOT NULL DEFAULT '',
    delivery             text        NOT NULL DEFAULT 'online' CHECK (delivery IN ('online', 'offline')),
    requested_by         text        NOT NULL,
    requested_at         timestamptz NOT NULL DEFAULT now(),
    decided_by           text,
    decided_at           timestamptz,
    decision_reason      text        NOT NULL DEFAULT '',
    serial               bigint      REFERENCES ledger (serial), -- the watermark's serial, once rendering began
    mask_plan_sha256     bytea       CHECK (length(mask_plan_sha256) = 32),
    package_path         text,
    package_sha256       bytea       CHECK (length(package_sha256) = 32),
    outbox_id            bigint      REFERENCES outbox (id),
    error                text        NOT NULL DEFAULT '',
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (masked OR length(unmasked_reason) >= 10), -- trust rule 4
    CHECK ((decided_by IS NULL) = (decided_at IS NULL))
);
CREATE INDEX export_state ON export (state, requested_at DESC);

-- Each stage of an approved export's pipeline, with its progress.
CREATE TABLE export_stage (
    export_id   bigint      NOT NULL REFERENCES export (id),
    stage       text        NOT NULL CHECK (stage IN ('transcode', 'render', 'seal', 'outbox')),
    position    integer     NOT NULL,
    state       text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'skipped', 'failed')),
    progress    real        NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    fps         real        NOT NULL DEFAULT 0,
    attempts    integer     NOT NULL DEFAULT 0,
    error       text        NOT NULL DEFAULT '',
    started_at  timestamptz,
    finished_at timestamptz,
    lease_until timestamptz, -- a running stage's claim, renewed by its worker's heartbeat
    PRIMARY KEY (export_id, stage)
);

-- Every state change: who, when, why (also in the audit chain).
CREATE TABLE export_event (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    export_id  bigint      NOT NULL REFERENCES export (id),
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text        NOT NULL,
    from_state text        NOT NULL,
    to_state   text        NOT NULL,
    reason     text        NOT NULL DEFAULT ''
);
CREATE INDEX export_event_export ON export_event (export_id, id);
