-- 0004 line settings (PostgreSQL, the line database): how the line treats what the stations send.
--
-- `line_settings`: one row per setting, written by a line administrator (`station records migrate`),
-- read by every station's sync. `test_line` = 'true' marks a test line: only a test line accepts records
-- of simulated units (`"simulated": true`); any other line refuses them, so simulated units never mix
-- with a production line's units (docs/line-database.md). No row means a production line.
-- Readable by every role that may connect (settings are not secrets), so no new grant is needed.

CREATE TABLE line_settings (
    name   text PRIMARY KEY CHECK (name IN ('test_line')),
    value  text NOT NULL CHECK (value IN ('true', 'false')),
    set_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON line_settings TO PUBLIC;
