r"""Records out of the station: JSON Lines (complete, with the signed text) or CSV (a flat summary).

>>> import io
>>> row = StoredRecord("line1-st01", 7, "rec-7", "2023b758c209269a", None, "qa", "pass", "2025-01-02",
...                    jws="<the signed text>", payload={"seq": 7, "outcome": "pass"})
>>> out = io.StringIO(); export_jsonl([row], out), out.getvalue()     # canonical JSON, the "jws" alongside
(1, '{"jws":"<the signed text>","outcome":"pass","seq":7}\n')
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

from station.records.canonical import canonical_json
from station.records.entries import StoredRecord

CSV_COLUMNS = (
    "station",
    "seq",
    "record_id",
    "devid",
    "genuine_id",
    "mode",
    "outcome",
    "started",
    "finished",
    "failure_step",
    "failure_code",
)
FORMATS = ("jsonl", "csv")


def export_jsonl(records: Iterable[StoredRecord], out: TextIO) -> int:
    """Write one canonical JSON object per record (payload + ``jws``); returns how many."""
    count = 0
    for record in records:
        line = {**record.payload, "jws": record.jws}
        out.write(canonical_json(line).decode("utf-8") + "\n")
        count += 1
    return count


def export_csv(records: Iterable[StoredRecord], out: TextIO) -> int:
    """Write a header and one flat row per record; returns how many records."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for record in records:
        writer.writerow(csv_row(record))
        count += 1
    return count


def csv_row(record: StoredRecord) -> list[Any]:
    """The CSV cells of one record, in ``CSV_COLUMNS`` order (empty where a value is absent)."""
    parsed = record.readable  # a damaged payload still gets its row, from the stored columns
    failure = None if parsed is None else parsed.failure
    cells = [
        record.station_id,
        record.seq,
        record.record_id,
        record.devid,
        record.genuine_id,
        record.mode,
        record.outcome,
        None if parsed is None else parsed.started,
        None if parsed is None else parsed.finished,
        None if failure is None else failure.step,
        None if failure is None else failure.code,
    ]
    return ["" if cell is None else cell for cell in cells]
