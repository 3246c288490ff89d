-- People and what they may do. Roles are fixed by the product (the web app checks them on every
-- route); a user holds any number of them. Passwords and PINs are stored only as hashes, in a
-- self-describing format ('pbkdf2-sha256$iterations$salt$hash'), never in clear.

CREATE TABLE role (
    code        text PRIMARY KEY,
    description text NOT NULL
);

INSERT INTO role (code, description) VALUES
    ('operator',   'Runs operations at a machine: start, pause, complete, report counts, scrap and measurements'),
    ('supervisor', 'Dispatches work, classifies stops, overrides with a signature, reads every live screen'),
    ('quality',    'Owns characteristics, SPC, holds, nonconformances and dispositions'),
    ('manager',    'Reads plant KPIs, reports and drill-downs'),
    ('admin',      'Maintains the plant model, shifts, reason codes, users and integrations');

CREATE TABLE app_user (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       text NOT NULL CHECK (username ~ '^[a-z0-9][a-z0-9_.@-]*$'),
    display_name   text NOT NULL CHECK (display_name <> ''),
    password_hash  text,
    pin_hash       text,
    -- The badge's card number, for sign-in at a tablet by scan.
    badge          text UNIQUE,
    employee_ref   text UNIQUE,  -- the ERP's employee key, for labor bookings
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX app_user_username_idx ON app_user (lower(username));

CREATE TABLE user_role (
    user_id     bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    role_code   text NOT NULL REFERENCES role (code),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role_code)
);

ALTER TABLE work_order_operation
    ADD CONSTRAINT work_order_operation_operator_fk FOREIGN KEY (operator_id) REFERENCES app_user (id);
