-- Production execution: what happened to each operation on the floor (its activity and the
-- quantities reported), who was at which machine (labor), and the outbox that tells the ERP,
-- written in the same transaction as the floor event it reports.

-- A machine that may run several operations at once (an oven, a wash line).
ALTER TABLE machine ADD COLUMN parallel_operations boolean NOT NULL DEFAULT false;

-- The plant's reason codes for scrap and rework (stops keep free text from the machines).
CREATE TABLE reason_code (
    kind         text NOT NULL CHECK (kind IN ('scrap', 'rework')),
    code         text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'),
    description  text NOT NULL CHECK (description <> ''),
    active       boolean NOT NULL DEFAULT true,
    PRIMARY KEY (kind, code)
);

-- Each stretch of an operation in setup, running or paused: append-only except for closing
-- the open one. Labor and the durations sent to the ERP are computed from these.
CREATE TABLE operation_activity (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operation_id  bigint NOT NULL REFERENCES work_order_operation (id),
    machine_id    bigint NOT NULL REFERENCES machine (id),
    state         text NOT NULL CHECK (state IN ('setup', 'running', 'paused')),
    started_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    user_id       bigint REFERENCES app_user (id),
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE UNIQUE INDEX operation_activity_open_idx ON operation_activity (operation_id) WHERE ended_at IS NULL;
CREATE INDEX operation_activity_machine_idx ON operation_activity (machine_id, started_at);

-- Quantities as reported: the operation's totals are kept equal to their sums. A report
-- carries the key of the form or API call that made it, so a resubmission is the same report.
CREATE TABLE production_report (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operation_id  bigint NOT NULL REFERENCES work_order_operation (id),
    kind          text NOT NULL CHECK (kind IN ('good', 'scrap', 'rework')),
    quantity      numeric(14, 3) NOT NULL CHECK (quantity > 0),
    reason_kind   text,
    reason_code   text,
    note          text,
    user_id       bigint REFERENCES app_user (id),
    reported_at   timestamptz NOT NULL,
    request_key   text UNIQUE,
    FOREIGN KEY (reason_kind, reason_code) REFERENCES reason_code (kind, code),
    CHECK ((kind = 'good') = (reason_code IS NULL)),
    CHECK (reason_kind IS NULL OR reason_kind = kind)
);
CREATE INDEX production_report_operation_idx ON production_report (operation_id);
CREATE INDEX production_report_time_idx ON production_report (reported_at);

-- An operator signed in at a machine. Labor is booked up to `booked_until` as operations
-- complete and when the operator signs out.
CREATE TABLE operator_session (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES app_user (id),
    machine_id    bigint NOT NULL REFERENCES machine (id),
    started_at    timestamptz NOT NULL,
    booked_until  timestamptz NOT NULL,
    ended_at      timestamptz,
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE UNIQUE INDEX operator_session_open_idx ON operator_session (user_id, machine_id) WHERE ended_at IS NULL;

-- Labor: the part of an operator's session during which an operation was in setup or running
-- at that machine.
CREATE TABLE labor_booking (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operation_id  bigint NOT NULL REFERENCES work_order_operation (id),
    user_id       bigint NOT NULL REFERENCES app_user (id),
    started_at    timestamptz NOT NULL,
    ended_at      timestamptz NOT NULL CHECK (ended_at > started_at),
    UNIQUE (operation_id, user_id, started_at)
);

-- The transactional outbox to the ERP. Each row is one thing to tell it, with a key that
-- makes a retry harmless. Rows of one stream (a work order) are sent in order: a later row
-- waits while an earlier one is pending or dead.
CREATE TABLE erp_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key  text NOT NULL UNIQUE CHECK (idempotency_key <> ''),
    stream           text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('operation_done', 'labor', 'scrap', 'order_done')),
    payload          jsonb NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    erp_answer       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX erp_outbox_due_idx ON erp_outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX erp_outbox_stream_idx ON erp_outbox (stream, id) WHERE state <> 'sent';

-- Every attempt and what the ERP answered: the ledger.
CREATE TABLE erp_outbox_attempt (
    outbox_id    bigint NOT NULL REFERENCES erp_outbox (id),
    attempt      integer NOT NULL CHECK (attempt > 0),
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('sent', 'retry', 'dead')),
    detail       text,
    node         text NOT NULL,
    PRIMARY KEY (outbox_id, attempt)
);

-- Where each pull from the ERP got to (its last-modified time), per kind of record.
CREATE TABLE erp_sync_cursor (
    entity         text PRIMARY KEY,
    last_modified  timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
