-- The REST API's tokens. The token itself is shown once, at creation; only its SHA-256 is kept.
-- Scopes: plant:read (orders, WIP, machine states, OEE), orders:write (create, update, release
-- and import work orders), erp:admin (the outbox ledger and replay).
CREATE TABLE api_token (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (name <> ''),
    -- The token's public part, `mes_<prefix>_…`, to find it and to name it in lists and logs.
    prefix        text NOT NULL UNIQUE CHECK (prefix ~ '^[0-9a-f]{8}$'),
    secret_sha256 text NOT NULL CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
    scopes        text NOT NULL CHECK (scopes ~ '^(plant:read|orders:write|erp:admin)( (plant:read|orders:write|erp:admin))*$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
