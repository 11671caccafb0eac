-- 0005 dashboard (PostgreSQL, the line database): what `station line serve` reads, without decoding JWS.
--
-- The line dashboard (docs/dashboard.md) counts failures by step and code, and units by profile, over
-- shift/day/week windows of up to ~100 000 records: decoding each record's JWS per page is too slow. So
-- the line database copies those public payload fields into columns once, as a row arrives (a BEFORE
-- INSERT trigger, one decode per row, overwriting whatever an INSERT gave them): the stations' sync
-- inserts exactly as before, and a damaged payload gives NULLs, never a failed INSERT. Rows already held
-- are filled once here, the append-only trigger set aside for that one UPDATE. Indexes: time windows on
-- `created`, failures alone, production units by time, and `received_at` for the live updates.

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
    ADD COLUMN fail_step text, ADD COLUMN fail_code text, ADD COLUMN fail_message text,
    ADD COLUMN profile text, ADD COLUMN operator_id text;

CREATE FUNCTION station_record_facts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload jsonb := station_payload(NEW.jws);
BEGIN
    NEW.fail_step := left(payload -> 'failure' ->> 'step', 80);
    NEW.fail_code := left(payload -> 'failure' ->> 'code', 80);
    NEW.fail_message := left(payload -> 'failure' ->> 'message', 300);
    NEW.profile := left(payload -> 'personalization' ->> 'profile', 120);
    NEW.operator_id := left(payload -> 'operator' ->> 'id', 80);
    RETURN NEW;
END
$$;
CREATE TRIGGER records_facts BEFORE INSERT ON records FOR EACH ROW EXECUTE FUNCTION station_record_facts();

ALTER TABLE records DISABLE TRIGGER records_append_only;
UPDATE records SET fail_step = left(p -> 'failure' ->> 'step', 80), fail_code = left(p -> 'failure' ->> 'code', 80),
    fail_message = left(p -> 'failure' ->> 'message', 300), profile = left(p -> 'personalization' ->> 'profile', 120),
    operator_id = left(p -> 'operator' ->> 'id', 80)
FROM (SELECT record_id AS id, station_payload(jws) AS p FROM records) AS decoded WHERE record_id = decoded.id;
ALTER TABLE records ENABLE TRIGGER records_append_only;

CREATE INDEX records_by_created ON records (created) INCLUDE (station_id, mode, outcome, devid);
CREATE INDEX records_failures ON records (created) INCLUDE (fail_step, fail_code)
    WHERE outcome IN ('fail', 'error');
CREATE INDEX records_production ON records (created) INCLUDE (devid, station_id, seq, outcome, profile)
    WHERE mode = 'production';
CREATE INDEX records_by_received_at ON records (received_at);
