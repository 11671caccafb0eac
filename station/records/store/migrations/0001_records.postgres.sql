-- 0001 records (PostgreSQL, the line database): every station's records and the line's unit registry.
--
-- The same tables and rules as a station's SQLite store, minus runs and journal (crash bookkeeping that
-- stays on the station). Append-only is enforced twice: the `station` role is granted INSERT and SELECT
-- only (docs/line-database.md), and these triggers refuse UPDATE, DELETE and TRUNCATE even for the owner.
-- `created` is when the station stored the record (its clock, RFC 3339 text, as in SQLite);
-- `received_at` is when the line database accepted it.

CREATE FUNCTION station_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TABLE records (
    station_id  text NOT NULL,
    seq         bigint NOT NULL CHECK (seq >= 1),
    record_id   text NOT NULL UNIQUE,
    devid       text,
    genuine_id  text,
    mode        text NOT NULL,
    outcome     text NOT NULL,
    created     text NOT NULL,
    jws         text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, seq)
);
CREATE INDEX records_by_devid ON records (devid);
CREATE INDEX records_by_genuine_id ON records (genuine_id);

CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON records
    FOR EACH ROW EXECUTE FUNCTION station_refuse_change();
CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON records
    FOR EACH STATEMENT EXECUTE FUNCTION station_refuse_change();

-- A station's seq must follow its last record. A row that repeats an existing (station_id, seq) passes
-- through, so INSERT ... ON CONFLICT DO NOTHING can decide (BEFORE triggers fire before the conflict check).
CREATE FUNCTION station_records_gapless() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM records WHERE station_id = NEW.station_id AND seq = NEW.seq) THEN
        RETURN NEW;
    END IF;
    IF NEW.seq <> COALESCE((SELECT max(seq) FROM records WHERE station_id = NEW.station_id), 0) + 1 THEN
        RAISE EXCEPTION 'records: seq % of station % does not follow the station''s last record',
            NEW.seq, NEW.station_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER records_gapless BEFORE INSERT ON records
    FOR EACH ROW EXECUTE FUNCTION station_records_gapless();

CREATE TABLE unit_registry (
    devid          text PRIMARY KEY,
    genuine_id     text NOT NULL UNIQUE,
    station_id     text NOT NULL,
    seq            bigint NOT NULL,
    record_id      text NOT NULL UNIQUE REFERENCES records (record_id),
    provisioned_at text NOT NULL,
    FOREIGN KEY (station_id, seq) REFERENCES records (station_id, seq)
);
CREATE TRIGGER unit_registry_append_only BEFORE UPDATE OR DELETE ON unit_registry
    FOR EACH ROW EXECUTE FUNCTION station_refuse_change();
CREATE TRIGGER unit_registry_no_truncate BEFORE TRUNCATE ON unit_registry
    FOR EACH STATEMENT EXECUTE FUNCTION station_refuse_change();
