-- A site's shifts: wall-clock start and end in the site's time zone, the weekdays they run
-- (1 Monday … 7 Sunday, as digits), and their breaks. Shift reports (attainment per shift) and
-- the OEE calendar come from these.
CREATE TABLE shift_pattern (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id       bigint NOT NULL REFERENCES site (id),
    name          text NOT NULL CHECK (name <> ''),
    start_minute  integer NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute    integer NOT NULL CHECK (end_minute BETWEEN 0 AND 1439),
    weekdays      text NOT NULL DEFAULT '12345' CHECK (weekdays ~ '^[1-7]{1,7}$'),
    -- [{"start_minute": 600, "minutes": 15}, ...]
    breaks        jsonb NOT NULL DEFAULT '[]',
    UNIQUE (site_id, name)
);
