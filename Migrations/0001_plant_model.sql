-- Plant model after ISA-95 (IEC 62264-1): enterprise > site > area > line > machine.
-- A machine is the ERP's work center; erp_ref holds the ERP's key where the record came from it.
-- Every instant in this schema is timestamptz (stored as UTC); a site's time zone is used only to
-- compute shifts and local report days.

CREATE TABLE site (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'),
    name        text NOT NULL CHECK (name <> ''),
    -- An IANA zone name such as 'Europe/Berlin'. AT TIME ZONE raises 22023 for an unknown name,
    -- so the check refuses zones PostgreSQL does not know.
    time_zone   text NOT NULL CHECK ((timestamptz '2000-01-01 00:00:00+00' AT TIME ZONE time_zone) IS NOT NULL),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE area (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id     bigint NOT NULL REFERENCES site (id),
    code        text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'),
    name        text NOT NULL CHECK (name <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, code)
);

CREATE TABLE line (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    area_id     bigint NOT NULL REFERENCES area (id),
    code        text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'),
    name        text NOT NULL CHECK (name <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (area_id, code)
);

CREATE TABLE machine (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Machines first seen on MQTT may be registered before anyone places them on a line.
    line_id     bigint REFERENCES line (id),
    site_id     bigint NOT NULL REFERENCES site (id),
    code        text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'),
    name        text NOT NULL CHECK (name <> ''),
    erp_ref     text UNIQUE,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, code)
);
CREATE INDEX machine_line_idx ON machine (line_id);
