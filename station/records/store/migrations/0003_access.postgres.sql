-- 0003 access (PostgreSQL, the line database): nothing to create.
--
-- On a station, step 0003 adds operator accounts and the station audit log (0003_access.sqlite.sql).
-- Both stay on the station: accounts are local to the bench that badges them, and the audit log is
-- verified there (`station audit verify`). The step exists here so both dialects keep the same numbered
-- steps (migrate.py), and a line database at version 3 means the same software generation as a station.
SELECT 1;
