-- 0001 records (SQLite, the station's own store): records, the unit registry, runs and their journal.
--
-- The database itself enforces what must never happen, so a bug (or a hand with the sqlite3 shell) cannot
-- quietly break the evidence: records, registry entries and journal lines are append-only (BEFORE
-- UPDATE/DELETE triggers abort), a station's seq must follow its last record without a gap, a unit has at
-- most one production registry entry (devid primary key, genuine_id unique), and a run only moves from
-- open to closed.

CREATE TABLE IF NOT EXISTS records (
    station_id TEXT NOT NULL,
    seq        INTEGER NOT NULL CHECK (seq >= 1),
    record_id  TEXT NOT NULL UNIQUE,
    devid      TEXT,
    genuine_id TEXT,
    mode       TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    created    TEXT NOT NULL,
    jws        TEXT NOT NULL,
    PRIMARY KEY (station_id, seq)
);
CREATE INDEX IF NOT EXISTS records_by_devid ON records (devid);
CREATE INDEX IF NOT EXISTS records_by_genuine_id ON records (genuine_id);

CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'records are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'records are append-only: DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS records_gapless BEFORE INSERT ON records
WHEN NEW.seq != COALESCE((SELECT MAX(seq) FROM records WHERE station_id = NEW.station_id), 0) + 1
BEGIN SELECT RAISE(ABORT, 'records: seq does not follow the station''s last record'); END;

CREATE TABLE IF NOT EXISTS unit_registry (
    devid          TEXT PRIMARY KEY,
    genuine_id     TEXT NOT NULL UNIQUE,
    station_id     TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    record_id      TEXT NOT NULL UNIQUE REFERENCES records (record_id),
    provisioned_at TEXT NOT NULL,
    FOREIGN KEY (station_id, seq) REFERENCES records (station_id, seq)
);
CREATE TRIGGER IF NOT EXISTS unit_registry_no_update BEFORE UPDATE ON unit_registry
BEGIN SELECT RAISE(ABORT, 'unit_registry is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS unit_registry_no_delete BEFORE DELETE ON unit_registry
BEGIN SELECT RAISE(ABORT, 'unit_registry is append-only: DELETE refused'); END;

CREATE TABLE IF NOT EXISTS runs (
    run_id    TEXT PRIMARY KEY,
    slot      TEXT NOT NULL,
    mode      TEXT NOT NULL,
    devid     TEXT,
    state     TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    started   TEXT NOT NULL,
    updated   TEXT NOT NULL,
    record_id TEXT REFERENCES records (record_id)
);
CREATE INDEX IF NOT EXISTS runs_open ON runs (state) WHERE state = 'open';
CREATE TRIGGER IF NOT EXISTS runs_closed_stay_closed BEFORE UPDATE ON runs
WHEN OLD.state = 'closed'
BEGIN SELECT RAISE(ABORT, 'runs: a closed run cannot change'); END;
CREATE TRIGGER IF NOT EXISTS runs_no_delete BEFORE DELETE ON runs
BEGIN SELECT RAISE(ABORT, 'runs: DELETE refused'); END;

CREATE TABLE IF NOT EXISTS journal (
    run_id      TEXT NOT NULL REFERENCES runs (run_id),
    n           INTEGER NOT NULL CHECK (n >= 1),
    step        TEXT NOT NULL,
    phase       TEXT NOT NULL,
    detail_json TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (run_id, n)
);
CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only: DELETE refused'); END;
