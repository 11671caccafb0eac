-- 0004 line settings (SQLite, the station's own store): nothing to create.
--
-- On the line database, step 0004 adds `line_settings` (0004_line_settings.postgres.sql): whether the
-- line is a test line that accepts records of simulated units. A station's store keeps whatever its own
-- units were, simulated or not. The step exists here so both dialects keep the same numbered steps.
SELECT 1;
