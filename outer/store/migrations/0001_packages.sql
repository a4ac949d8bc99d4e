-- Sealed packages received from paired inner appliances (outer/pkgstore).
CREATE TABLE packages (
    sha256      bytea       PRIMARY KEY CHECK (length(sha256) = 32), -- of the package file: its identity
    peer        text        NOT NULL,  -- the inner appliance it came from
    size        bigint      NOT NULL CHECK (size > 0),
    path        text        NOT NULL,
    state       text        NOT NULL DEFAULT 'available' CHECK (state IN ('available', 'destroyed')),
    received_at timestamptz NOT NULL DEFAULT now()
);
