-- Parts and their routings, mirrored from the ERP (erp_ref) or created in the MES.
-- A routing is the ordered list of operations that makes a part; each operation runs on a
-- machine (work center) with an ideal cycle time, the base of OEE performance.

CREATE TABLE part (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code <> ''),
    name        text NOT NULL CHECK (name <> ''),
    unit        text NOT NULL DEFAULT 'pcs' CHECK (unit <> ''),
    erp_ref     text UNIQUE,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE routing (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    part_id     bigint NOT NULL REFERENCES part (id),
    name        text NOT NULL CHECK (name <> ''),
    version     integer NOT NULL DEFAULT 1 CHECK (version > 0),
    erp_ref     text UNIQUE,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (part_id, name, version)
);

CREATE TABLE routing_operation (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    routing_id          bigint NOT NULL REFERENCES routing (id),
    -- Operation number as printed on the traveller: 10, 20, 30 ...
    sequence            integer NOT NULL CHECK (sequence > 0),
    name                text NOT NULL CHECK (name <> ''),
    machine_id          bigint REFERENCES machine (id),
    -- Seconds per good part at the machine's nameplate speed; NULL until known.
    ideal_cycle_seconds numeric(12, 4) CHECK (ideal_cycle_seconds > 0),
    setup_seconds       numeric(12, 2) NOT NULL DEFAULT 0 CHECK (setup_seconds >= 0),
    erp_ref             text UNIQUE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (routing_id, sequence)
);
CREATE INDEX routing_operation_machine_idx ON routing_operation (machine_id);
