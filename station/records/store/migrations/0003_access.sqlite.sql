-- 0003 access (SQLite, the station's own store): operator accounts and the station audit log.
--
-- `users`: one row per badge. Accounts are disabled, never deleted, so every record and audit entry that
-- names a badge keeps meaning something; the badge and creation time never change. `pin_hash` is a
-- self-describing scrypt string (station/access/pins.py), never a PIN. `failed_logins` counts consecutive
-- wrong PINs; `locked_until` (RFC 3339 UTC) is set when the count reaches the lockout limit.
-- `audit_log`: signed, chained entries (station/access/audit.py); append-only like records: UPDATE and
-- DELETE abort, and a seq must follow the last one without a gap.

CREATE TABLE IF NOT EXISTS users (
    badge         TEXT PRIMARY KEY CHECK (length(badge) BETWEEN 1 AND 64),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    role          TEXT NOT NULL CHECK (role IN ('operator', 'qa', 'rma', 'admin')),
    pin_hash      TEXT NOT NULL CHECK (pin_hash LIKE 'scrypt$%'),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until  TEXT,
    created       TEXT NOT NULL,
    updated       TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS users_no_delete BEFORE DELETE ON users
BEGIN SELECT RAISE(ABORT, 'users: DELETE refused (disable the account instead)'); END;
CREATE TRIGGER IF NOT EXISTS users_identity_fixed BEFORE UPDATE OF badge, created ON users
WHEN NEW.badge IS NOT OLD.badge OR NEW.created IS NOT OLD.created
BEGIN SELECT RAISE(ABORT, 'users: badge and created never change'); END;

CREATE TABLE IF NOT EXISTS audit_log (
    seq        INTEGER PRIMARY KEY CHECK (seq >= 1),
    at         TEXT NOT NULL,
    actor_id   TEXT,
    actor_role TEXT,
    action     TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
    jws        TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_gapless BEFORE INSERT ON audit_log
WHEN NEW.seq != COALESCE((SELECT MAX(seq) FROM audit_log), 0) + 1
BEGIN SELECT RAISE(ABORT, 'audit_log: seq does not follow the last entry'); END;
