-- 0002 sync (SQLite): what the store-and-forward sync did with each record of this station.
--
-- No row: not sent yet. 'sent': the line database holds this exact record (final: a sent record stays
-- sent). 'refused': the line database would not take it (reason says why); the record stays here, is
-- reported, and is offered again at the next sync. Records after a refused one wait behind it, so the
-- line database only ever holds a gapless, verified prefix of each station's chain.

CREATE TABLE IF NOT EXISTS sync_state (
    station_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('sent', 'refused')),
    reason     TEXT,
    at         TEXT NOT NULL,
    PRIMARY KEY (station_id, seq),
    FOREIGN KEY (station_id, seq) REFERENCES records (station_id, seq)
);
CREATE TRIGGER IF NOT EXISTS sync_state_sent_is_final BEFORE UPDATE ON sync_state
WHEN OLD.state = 'sent'
BEGIN SELECT RAISE(ABORT, 'sync_state: a sent record stays sent'); END;
CREATE TRIGGER IF NOT EXISTS sync_state_no_delete BEFORE DELETE ON sync_state
BEGIN SELECT RAISE(ABORT, 'sync_state: DELETE refused'); END;
