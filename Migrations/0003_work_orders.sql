-- Work orders (the ERP's production orders) and their operations, copied from the routing at
-- release. Quantities are what the floor reported; the ERP hears about them through the outbox.

CREATE TABLE work_order (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number           text NOT NULL UNIQUE CHECK (number <> ''),
    part_id          bigint NOT NULL REFERENCES part (id),
    routing_id       bigint REFERENCES routing (id),
    site_id          bigint NOT NULL REFERENCES site (id),
    quantity_planned numeric(14, 3) NOT NULL CHECK (quantity_planned > 0),
    state            text NOT NULL DEFAULT 'planned'
                     CHECK (state IN ('planned', 'released', 'in_progress', 'completed', 'closed', 'cancelled')),
    priority         integer NOT NULL DEFAULT 0,
    planned_start    timestamptz,
    due_at           timestamptz,
    released_at      timestamptz,
    completed_at     timestamptz,
    erp_ref          text UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (released_at IS NOT NULL OR state IN ('planned', 'cancelled'))
);
CREATE INDEX work_order_open_idx ON work_order (site_id, state) WHERE state IN ('released', 'in_progress');

CREATE TABLE work_order_operation (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    work_order_id        bigint NOT NULL REFERENCES work_order (id),
    routing_operation_id bigint REFERENCES routing_operation (id),
    sequence             integer NOT NULL CHECK (sequence > 0),
    name                 text NOT NULL CHECK (name <> ''),
    machine_id           bigint REFERENCES machine (id),
    operator_id          bigint,  -- references app_user; constraint added with the users table
    state                text NOT NULL DEFAULT 'queued'
                         CHECK (state IN ('queued', 'setup', 'running', 'paused', 'complete')),
    ideal_cycle_seconds  numeric(12, 4) CHECK (ideal_cycle_seconds > 0),
    quantity_good        numeric(14, 3) NOT NULL DEFAULT 0 CHECK (quantity_good >= 0),
    quantity_scrap       numeric(14, 3) NOT NULL DEFAULT 0 CHECK (quantity_scrap >= 0),
    quantity_rework      numeric(14, 3) NOT NULL DEFAULT 0 CHECK (quantity_rework >= 0),
    started_at           timestamptz,
    ended_at             timestamptz,
    erp_ref              text UNIQUE,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (work_order_id, sequence),
    CHECK (ended_at IS NULL OR (started_at IS NOT NULL AND ended_at >= started_at))
);
CREATE INDEX work_order_operation_machine_idx ON work_order_operation (machine_id, state);
