-- 0005 dashboard (SQLite, the station's own store): an index for the line dashboard's time windows.
--
-- `station line serve --store records.sqlite3` (docs/dashboard.md) reads one station's store for a
-- one-station line: its pages count records over shift/day/week windows of `created`. The line
-- database's step 0005 also derives payload fields as generated columns; SQLite has no base64 decoder,
-- so for a station's store the dashboard reads them from the payload itself.
CREATE INDEX IF NOT EXISTS records_by_created ON records (created);
