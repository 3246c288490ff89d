-- Machine data from the collector. Raw events are immutable and idempotent: a message
-- redelivered at QoS 1, or a repeated Sparkplug birth, carries the same key and is stored once.
-- State intervals, part counts, alarms and the current status are derived from the raw events,
-- incrementally, in the same transaction as the batch that brought them. Measurements are the
-- raw events themselves: (machine, 'measurement', characteristic, time) is their index.

CREATE TABLE machine_event (
    -- Arrival order, for events at the same instant; not indexed (nothing looks an event up by it).
    id           bigint GENERATED ALWAYS AS IDENTITY,
    -- No foreign key on this one table: the check per row cost 60 % of the insert at tens of
    -- thousands of rows a second (docs/performance.md). Ids come from the collector's machine
    -- directory, and machines are deactivated, never deleted; the derived tables keep theirs.
    machine_id   bigint NOT NULL,
    occurred_at  timestamptz NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('state', 'count', 'measurement', 'alarm')),
    -- What the event is about: the state, the counter, the characteristic or the alarm code.
    subject      text NOT NULL,
    -- The counter reading, the measured value, or 1/0 for an alarm raised/cleared.
    value        double precision,
    -- The stop reason, the part, the unit, or the alarm text.
    detail       text,
    severity     text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    -- The natural key: one index serves idempotency, measurements by characteristic and state replays.
    PRIMARY KEY (machine_id, kind, subject, occurred_at)
);

-- What each machine did, as [started_at, ended_at); the open interval has ended_at NULL.
-- A stop the machine reported without a reason is kept with reason NULL until a supervisor or
-- operator classifies it (reason_source 'user').
CREATE TABLE machine_state_interval (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    machine_id    bigint NOT NULL REFERENCES machine (id),
    started_at    timestamptz NOT NULL,
    ended_at      timestamptz CHECK (ended_at > started_at),
    state         text NOT NULL
                  CHECK (state IN ('running', 'idle', 'unplanned_stop', 'setup', 'planned_stop', 'offline')),
    reason        text,
    reason_source text CHECK (reason_source IN ('machine', 'user')),
    UNIQUE (machine_id, started_at)
);
CREATE UNIQUE INDEX machine_state_interval_open_idx ON machine_state_interval (machine_id) WHERE ended_at IS NULL;
CREATE INDEX machine_state_interval_unclassified_idx ON machine_state_interval (machine_id, started_at)
    WHERE state = 'unplanned_stop' AND reason IS NULL;

-- The last reading of each PLC counter, so counts continue across batches and restarts.
CREATE TABLE machine_counter (
    machine_id   bigint NOT NULL REFERENCES machine (id),
    counter      text NOT NULL,
    value        bigint NOT NULL,
    read_at      timestamptz NOT NULL,
    PRIMARY KEY (machine_id, counter)
);

-- Parts counted from counter readings, per machine, counter and part per minute, stamped with
-- the minute's last reading (a row per reading would double the writes for no use).
CREATE TABLE production_count (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    machine_id   bigint NOT NULL REFERENCES machine (id),
    counted_at   timestamptz NOT NULL,
    counter      text NOT NULL CHECK (counter IN ('total', 'good', 'reject')),
    part         text,
    quantity     bigint NOT NULL CHECK (quantity >= 0),
    -- The counter dropped: parts between the previous reading and the reset are missing.
    counter_reset boolean NOT NULL DEFAULT false
);
CREATE INDEX production_count_machine_idx ON production_count (machine_id, counted_at);

CREATE TABLE machine_alarm (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    machine_id  bigint NOT NULL REFERENCES machine (id),
    code        text NOT NULL,
    text        text,
    severity    text,
    raised_at   timestamptz NOT NULL,
    cleared_at  timestamptz CHECK (cleared_at >= raised_at)
);
CREATE UNIQUE INDEX machine_alarm_active_idx ON machine_alarm (machine_id, code) WHERE cleared_at IS NULL;

-- The wall screen's tile: each machine's state now.
CREATE TABLE machine_status (
    machine_id   bigint PRIMARY KEY REFERENCES machine (id),
    state        text NOT NULL,
    reason       text,
    since        timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Messages that could not be used, with the reason: nothing is dropped silently.
CREATE TABLE dead_letter (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    source       text NOT NULL DEFAULT 'mqtt',
    topic        text NOT NULL,
    payload      bytea NOT NULL,
    reason       text NOT NULL
);
CREATE INDEX dead_letter_received_idx ON dead_letter (received_at);
