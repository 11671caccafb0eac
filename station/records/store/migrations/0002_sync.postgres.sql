-- 0002 sync (PostgreSQL): the stations' registered signing keys, and what the sync could not accept.
--
-- `stations`: a station's first sync registers its record-signing public key (trust on first use); later
-- records of that station are accepted only if they verify with a registered key. Another key for a known
-- station is refused until a line administrator inserts it (docs/line-database.md).
-- `sync_conflicts`: evidence of trouble, never silently dropped: a record refused by the sync's checks
-- ('refused'), a different record for a (station_id, seq) the line already holds ('different-record'), a
-- second passing production record for a registered unit ('duplicate-unit'). One row per distinct case.

CREATE TABLE stations (
    station_id    text NOT NULL,
    key_id        text NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$'),
    public_key    text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, key_id)
);
CREATE TRIGGER stations_append_only BEFORE UPDATE OR DELETE ON stations
    FOR EACH ROW EXECUTE FUNCTION station_refuse_change();

CREATE TABLE sync_conflicts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id  text NOT NULL,
    seq         bigint NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('refused', 'different-record', 'duplicate-unit')),
    detail      text NOT NULL,
    jws         text NOT NULL,
    jws_sha256  text NOT NULL,
    reported_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (station_id, seq, kind, jws_sha256)
);
CREATE TRIGGER sync_conflicts_append_only BEFORE UPDATE OR DELETE ON sync_conflicts
    FOR EACH ROW EXECUTE FUNCTION station_refuse_change();
