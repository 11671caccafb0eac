-- 0005 dashboard (PostgreSQL, the line database): what `station line serve` reads, without decoding JWS.
--
-- The line dashboard (docs/dashboard.md) counts failures by step and code, and units by profile and
-- operator, over shift/day/week windows of up to ~100 000 records. Decoding each record's JWS in Python
-- per page is too slow, so the line database derives those public payload fields once, at INSERT, as
-- STORED generated columns: the stations' sync inserts exactly as before (it names its columns), and the
-- values are the signed payload's own (a damaged payload gives NULLs, never a failed INSERT). Indexes:
-- time windows on `created`, failures alone, and `received_at` for the dashboard's live updates.

CREATE FUNCTION station_payload(jws text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    part text := translate(split_part(jws, '.', 2), '-_', '+/');
BEGIN
    RETURN convert_from(decode(part || repeat('=', (4 - length(part) % 4) % 4), 'base64'), 'UTF8')::jsonb;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END
$$;

ALTER TABLE records
    ADD COLUMN fail_step text GENERATED ALWAYS AS (station_payload(jws) -> 'failure' ->> 'step') STORED,
    ADD COLUMN fail_code text GENERATED ALWAYS AS (station_payload(jws) -> 'failure' ->> 'code') STORED,
    ADD COLUMN fail_message text
        GENERATED ALWAYS AS (left(station_payload(jws) -> 'failure' ->> 'message', 300)) STORED,
    ADD COLUMN profile text
        GENERATED ALWAYS AS (left(station_payload(jws) -> 'personalization' ->> 'profile', 120)) STORED,
    ADD COLUMN operator_id text
        GENERATED ALWAYS AS (left(station_payload(jws) -> 'operator' ->> 'id', 80)) STORED;

CREATE INDEX records_by_created ON records (created) INCLUDE (station_id, mode, outcome, devid);
CREATE INDEX records_failures ON records (created) INCLUDE (fail_step, fail_code)
    WHERE outcome IN ('fail', 'error');
CREATE INDEX records_by_received_at ON records (received_at);
