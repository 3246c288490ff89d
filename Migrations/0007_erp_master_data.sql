-- Master data pulled from the ERP beyond parts and routings: bills of materials, the ERP's own
-- reference of an order, and a record of each pull. The outbox learns a fourth state.

-- A bill of materials: what one batch of `output_quantity` of the part consumes.
CREATE TABLE bill_of_materials (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    part_id          bigint NOT NULL REFERENCES part (id),
    name             text NOT NULL CHECK (name <> ''),
    output_quantity  numeric(14, 4) NOT NULL DEFAULT 1 CHECK (output_quantity > 0),
    erp_ref          text UNIQUE,
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bom_component (
    bom_id    bigint NOT NULL REFERENCES bill_of_materials (id) ON DELETE CASCADE,
    position  integer NOT NULL CHECK (position > 0),
    part_id   bigint NOT NULL REFERENCES part (id),
    quantity  numeric(14, 4) NOT NULL CHECK (quantity > 0),
    unit      text NOT NULL CHECK (unit <> ''),
    PRIMARY KEY (bom_id, position)
);

ALTER TABLE work_order
    ADD COLUMN bom_id bigint REFERENCES bill_of_materials (id),
    -- The ERP's free reference of the order (a customer order, a kanban card), shown beside the number.
    ADD COLUMN reference text;

-- `skipped`: the ERP had nothing to record for the message (an order it does not know, an
-- operation it keeps no timesheet for). It does not hold back its stream.
ALTER TABLE erp_outbox DROP CONSTRAINT erp_outbox_state_check;
ALTER TABLE erp_outbox ADD CONSTRAINT erp_outbox_state_check CHECK (state IN ('pending', 'sent', 'skipped', 'dead'));
DROP INDEX erp_outbox_stream_idx;
CREATE INDEX erp_outbox_stream_idx ON erp_outbox (stream, id) WHERE state IN ('pending', 'dead');
ALTER TABLE erp_outbox_attempt DROP CONSTRAINT erp_outbox_attempt_outcome_check;
ALTER TABLE erp_outbox_attempt ADD CONSTRAINT erp_outbox_attempt_outcome_check CHECK (outcome IN ('sent', 'skipped', 'retry', 'dead'));

-- Each pull from the ERP: when, on which node, and what it did per kind of record.
CREATE TABLE erp_pull_run (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node         text NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('done', 'failed')),
    -- {"work_orders": {"created": 2, "updated": 0, "unchanged": 1, "skipped": 0}, ...}
    counts       jsonb NOT NULL DEFAULT '{}',
    -- Records the pull could not take, each with its reason; or the error that stopped it.
    problems     jsonb NOT NULL DEFAULT '[]'
);
