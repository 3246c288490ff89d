-- Quality, traceability and compliance: the audit trail and electronic signatures (FDA 21 CFR
-- Part 11), qualifications, holds and nonconformances, characteristics and their measurements,
-- SPC alarms, lots and their genealogy, photo evidence, work instructions, shift handovers.

-- The audit trail. Append-only: the application's role may only INSERT and SELECT (updates,
-- deletes and truncation are refused by triggers whoever asks). Each record carries the hash
-- of the one before it (`seq` - 1) and its own hash over its canonical form, so `mes audit
-- verify` finds a record that was changed, removed or inserted afterwards.
CREATE TABLE audit_log (
    seq            bigint PRIMARY KEY,
    at             timestamptz NOT NULL,
    actor          text NOT NULL CHECK (actor <> ''),
    action         text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    entity         text NOT NULL CHECK (entity <> ''),
    entity_id      text NOT NULL,
    reason         text,
    before         jsonb,
    after          jsonb,
    previous_hash  text NOT NULL CHECK (previous_hash ~ '^[0-9a-f]{64}$'),
    hash           text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$')
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, seq);

-- The text a record's hash is taken over: each field as its length in bytes, ':' and the
-- field (or '~' for NULL), in a fixed order, ending with the previous record's hash. The time
-- is in microseconds since 1970. `mes audit verify` builds the same text on its own.
CREATE FUNCTION audit_log_canonical(r audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(CASE WHEN f IS NULL THEN '~' ELSE octet_length(f) || ':' || f END, '' ORDER BY n)
    FROM unnest(ARRAY[
        r.seq::text, (extract(epoch FROM r.at) * 1000000)::bigint::text, r.actor, r.action, r.entity, r.entity_id,
        r.reason, r.before::text, r.after::text, r.previous_hash
    ]) WITH ORDINALITY AS t(f, n)
$$;

-- Numbers and chains a new record under a transaction-scoped lock, so concurrent writers
-- form one chain in commit order.
CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq   bigint;
    last_hash  text;
BEGIN
    PERFORM pg_advisory_xact_lock(7305561817);
    SELECT seq, hash INTO last_seq, last_hash FROM audit_log ORDER BY seq DESC LIMIT 1;
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.previous_hash := coalesce(last_hash, repeat('0', 64));
    NEW.hash := encode(sha256(convert_to(audit_log_canonical(NEW), 'UTF8')), 'hex');
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- Refuses UPDATE, DELETE and TRUNCATE on the append-only tables.
CREATE FUNCTION refuse_append_only_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;

-- Electronic signatures (Part 11 §11.50, §11.70): who signed (and their printed name at the
-- time), when, what the signature means, which record (entity and id) and the SHA-256 of that
-- record's content as signed, so a later change to the record shows. A record finds its
-- signatures by entity and id. Append-only as the audit trail.
CREATE TABLE e_signature (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    signer_id    bigint NOT NULL REFERENCES app_user (id),
    signer_name  text NOT NULL,
    meaning      text NOT NULL CHECK (meaning IN ('approved', 'reviewed', 'performed', 'verified')),
    entity       text NOT NULL,
    entity_id    text NOT NULL,
    record_hash  text NOT NULL CHECK (record_hash ~ '^[0-9a-f]{64}$'),
    reason       text,
    signed_at    timestamptz NOT NULL
);
CREATE INDEX e_signature_entity_idx ON e_signature (entity, entity_id);
CREATE TRIGGER e_signature_append_only BEFORE UPDATE OR DELETE ON e_signature
    FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
CREATE TRIGGER e_signature_no_truncate BEFORE TRUNCATE ON e_signature
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();
REVOKE UPDATE, DELETE, TRUNCATE ON e_signature FROM PUBLIC;

-- Failed sign-ins and signature attempts count here, for lockout and for the audit of
-- security events.
ALTER TABLE app_user ADD COLUMN failed_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE app_user ADD COLUMN locked_until timestamptz;

-- Files kept as evidence (scrap photos) or shown in work instructions, by content hash:
-- the same picture uploaded twice is stored once.
CREATE TABLE attachment (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256        text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    byte_size     integer NOT NULL CHECK (byte_size > 0),
    file_name     text,
    content       bytea NOT NULL,
    uploaded_by   bigint REFERENCES app_user (id),
    uploaded_at   timestamptz NOT NULL,
    CHECK (octet_length(content) = byte_size)
);
ALTER TABLE production_report ADD COLUMN attachment_id bigint REFERENCES attachment (id);

-- Qualifications: what an operation requires (by part and operation number, so it holds for
-- operations from the MES's routings and from the ERP alike), what each person holds and until
-- when, and a supervisor's signed override for one operation and one operator.
CREATE TABLE qualification (
    code         text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'),
    description  text NOT NULL CHECK (description <> '')
);

CREATE TABLE operation_qualification (
    part_id             bigint NOT NULL REFERENCES part (id),
    operation_sequence  integer NOT NULL CHECK (operation_sequence > 0),
    qualification_code  text NOT NULL REFERENCES qualification (code),
    PRIMARY KEY (part_id, operation_sequence, qualification_code)
);

CREATE TABLE user_qualification (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id             bigint NOT NULL REFERENCES app_user (id),
    qualification_code  text NOT NULL REFERENCES qualification (code),
    valid_from          timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    granted_by          bigint REFERENCES app_user (id),
    CHECK (expires_at > valid_from)
);
CREATE INDEX user_qualification_user_idx ON user_qualification (user_id, qualification_code, expires_at);

CREATE TABLE qualification_override (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operation_id  bigint NOT NULL REFERENCES work_order_operation (id),
    operator_id   bigint NOT NULL REFERENCES app_user (id),
    missing       text[] NOT NULL,
    reason        text NOT NULL CHECK (reason <> ''),
    created_at    timestamptz NOT NULL,
    UNIQUE (operation_id, operator_id)
);

-- Lots and serials, and genealogy: each transformation (an operation's run) consumes input
-- lots and produces output lots, with where, who and when.
CREATE TABLE lot (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    part_id        bigint NOT NULL REFERENCES part (id),
    code           text NOT NULL CHECK (code <> ''),
    kind           text NOT NULL CHECK (kind IN ('lot', 'serial')),
    quantity       numeric(14, 3) NOT NULL CHECK (quantity > 0),
    work_order_id  bigint REFERENCES work_order (id),
    created_at     timestamptz NOT NULL,
    UNIQUE (part_id, code),
    CHECK (kind = 'lot' OR quantity = 1)
);

CREATE TABLE lot_transformation (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operation_id   bigint REFERENCES work_order_operation (id),
    work_order_id  bigint REFERENCES work_order (id),
    machine_id     bigint REFERENCES machine (id),
    user_id        bigint REFERENCES app_user (id),
    at             timestamptz NOT NULL,
    request_key    text UNIQUE
);

CREATE TABLE lot_flow (
    transformation_id  bigint NOT NULL REFERENCES lot_transformation (id),
    lot_id             bigint NOT NULL REFERENCES lot (id),
    direction          text NOT NULL CHECK (direction IN ('in', 'out')),
    quantity           numeric(14, 3) NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (transformation_id, lot_id, direction)
);
CREATE INDEX lot_flow_lot_idx ON lot_flow (lot_id, direction);

-- Quality characteristics of a part at an operation, with their specification and how they
-- are charted; limits frozen from a capable period, each with the time they take effect.
CREATE TABLE quality_characteristic (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    part_id             bigint NOT NULL REFERENCES part (id),
    operation_sequence  integer NOT NULL CHECK (operation_sequence > 0),
    code                text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'),
    name                text NOT NULL CHECK (name <> ''),
    unit                text NOT NULL DEFAULT 'mm',
    nominal             double precision,
    lsl                 double precision,
    usl                 double precision,
    subgroup_size       integer NOT NULL DEFAULT 1 CHECK (subgroup_size BETWEEN 1 AND 25),
    sampling_minutes    integer CHECK (sampling_minutes > 0),
    chart               text NOT NULL DEFAULT 'imr' CHECK (chart IN ('imr', 'xbar_r', 'xbar_s')),
    rules               text[] NOT NULL DEFAULT ARRAY['N1', 'N2', 'N3', 'N5', 'N6'],
    hold_on_signal      boolean NOT NULL DEFAULT false,
    active              boolean NOT NULL DEFAULT true,
    UNIQUE (part_id, operation_sequence, code),
    CHECK (lsl IS NULL OR usl IS NULL OR lsl < usl),
    CHECK ((chart = 'imr') = (subgroup_size = 1))
);

CREATE TABLE characteristic_limits (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    characteristic_id  bigint NOT NULL REFERENCES quality_characteristic (id),
    effective_from     timestamptz NOT NULL,
    center             double precision NOT NULL,
    sigma              double precision NOT NULL CHECK (sigma > 0),
    frozen_by          bigint REFERENCES app_user (id),
    UNIQUE (characteristic_id, effective_from)
);

-- One plotted point: a subgroup of measurements (one value for an individuals chart).
CREATE TABLE measurement (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    characteristic_id  bigint NOT NULL REFERENCES quality_characteristic (id),
    operation_id       bigint REFERENCES work_order_operation (id),
    lot_id             bigint REFERENCES lot (id),
    vals               double precision[] NOT NULL CHECK (cardinality(vals) > 0),
    source             text NOT NULL CHECK (source IN ('operator', 'gauge', 'api')),
    user_id            bigint REFERENCES app_user (id),
    measured_at        timestamptz NOT NULL,
    out_of_spec        boolean NOT NULL,
    signals            text[] NOT NULL DEFAULT '{}',
    request_key        text UNIQUE
);
CREATE INDEX measurement_characteristic_idx ON measurement (characteristic_id, measured_at, id);
CREATE INDEX measurement_operation_idx ON measurement (operation_id);

-- An SPC signal on a point, for the wall screen until someone acknowledges it.
CREATE TABLE spc_alarm (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    characteristic_id  bigint NOT NULL REFERENCES quality_characteristic (id),
    measurement_id     bigint NOT NULL REFERENCES measurement (id),
    operation_id       bigint REFERENCES work_order_operation (id),
    machine_id         bigint REFERENCES machine (id),
    rules              text[] NOT NULL,
    raised_at          timestamptz NOT NULL,
    acknowledged_at    timestamptz,
    acknowledged_by    bigint REFERENCES app_user (id),
    note               text
);
CREATE INDEX spc_alarm_open_idx ON spc_alarm (raised_at) WHERE acknowledged_at IS NULL;

-- Nonconformances: found, investigated, and given a disposition with its reason and a signature.
CREATE TABLE nonconformance (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operation_id        bigint REFERENCES work_order_operation (id),
    lot_id              bigint REFERENCES lot (id),
    measurement_id      bigint REFERENCES measurement (id),
    quantity            numeric(14, 3) CHECK (quantity > 0),
    description         text NOT NULL CHECK (description <> ''),
    state               text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'investigating', 'dispositioned')),
    investigation       text,
    disposition         text CHECK (disposition IN ('use_as_is', 'rework', 'scrap', 'return')),
    disposition_reason  text,
    opened_by           bigint REFERENCES app_user (id),
    opened_at           timestamptz NOT NULL,
    dispositioned_by    bigint REFERENCES app_user (id),
    dispositioned_at    timestamptz,
    CHECK ((state = 'dispositioned') = (disposition IS NOT NULL)),
    CHECK (disposition IS NULL OR disposition_reason <> '')
);

-- A hold stops an operation (or a lot) until it is released with a reason; a hold that came
-- with a nonconformance is released only once that has its disposition.
CREATE TABLE quality_hold (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operation_id       bigint REFERENCES work_order_operation (id),
    lot_id             bigint REFERENCES lot (id),
    source             text NOT NULL CHECK (source IN ('manual', 'spc', 'inspection')),
    reason             text NOT NULL CHECK (reason <> ''),
    alarm_id           bigint REFERENCES spc_alarm (id),
    nonconformance_id  bigint REFERENCES nonconformance (id),
    opened_by          bigint REFERENCES app_user (id),
    opened_at          timestamptz NOT NULL,
    released_by        bigint REFERENCES app_user (id),
    released_at        timestamptz,
    release_reason     text,
    CHECK (operation_id IS NOT NULL OR lot_id IS NOT NULL),
    CHECK (released_at IS NULL OR release_reason <> '')
);
CREATE INDEX quality_hold_open_operation_idx ON quality_hold (operation_id) WHERE released_at IS NULL;
CREATE INDEX quality_hold_open_lot_idx ON quality_hold (lot_id) WHERE released_at IS NULL;

-- Work instructions: versioned Markdown per part and operation. A draft is released by a
-- signature; releasing one supersedes the version before.
CREATE TABLE work_instruction (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    part_id             bigint NOT NULL REFERENCES part (id),
    operation_sequence  integer NOT NULL CHECK (operation_sequence > 0),
    version             integer NOT NULL CHECK (version > 0),
    title               text NOT NULL CHECK (title <> ''),
    body                text NOT NULL,
    state               text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'released', 'superseded')),
    author_id           bigint NOT NULL REFERENCES app_user (id),
    created_at          timestamptz NOT NULL,
    released_at         timestamptz,
    UNIQUE (part_id, operation_sequence, version),
    CHECK ((state = 'draft') = (released_at IS NULL))
);
CREATE UNIQUE INDEX work_instruction_released_idx ON work_instruction (part_id, operation_sequence) WHERE state = 'released';

-- Shift handover: the generated summary of a shift, the outgoing supervisor's notes and
-- checklist, signed by the outgoing ('performed') and then the incoming ('reviewed') supervisor.
CREATE TABLE shift_handover (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id                bigint NOT NULL REFERENCES site (id),
    shift_name             text NOT NULL,
    shift_start            timestamptz NOT NULL,
    shift_end              timestamptz NOT NULL CHECK (shift_end > shift_start),
    summary                jsonb NOT NULL,
    notes                  text NOT NULL DEFAULT '',
    checklist              jsonb NOT NULL DEFAULT '[]',
    created_by             bigint NOT NULL REFERENCES app_user (id),
    created_at             timestamptz NOT NULL,
    UNIQUE (site_id, shift_start)
);

-- API tokens may carry the quality scopes.
ALTER TABLE api_token DROP CONSTRAINT api_token_scopes_check;
ALTER TABLE api_token ADD CONSTRAINT api_token_scopes_check CHECK (scopes ~
    '^(plant:read|orders:write|erp:admin|quality:read|quality:write)( (plant:read|orders:write|erp:admin|quality:read|quality:write))*$');
