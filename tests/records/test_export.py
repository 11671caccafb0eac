"""Exports: JSONL lines carry the payload and the verifiable JWS; CSV is one flat row per record."""

from __future__ import annotations

import csv
import io
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.cli.records import cmd_export
from station.records import RecordWriter, SqliteStore, verify_chain
from station.records.export import CSV_COLUMNS
from tests.records.conftest import STATION
from tests.records.factories import Ca, draft


def test_jsonl_lines_are_payload_plus_jws(
    writer: RecordWriter, store: SqliteStore, trusted: dict[str, Ed25519PublicKey], ca: Ca
) -> None:
    stored = [writer.append(draft(ca)), writer.append(draft(ca, outcome="fail"))]
    out, err = io.StringIO(), io.StringIO()
    assert cmd_export(store.path, "jsonl", out, err=err) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["record_id"] for line in lines] == [record.record_id for record in stored]
    for line, record in zip(lines, stored, strict=True):
        assert {key: value for key, value in line.items() if key != "jws"} == record.payload
    assert verify_chain([line["jws"] for line in lines], trusted, ca.certificate).ok
    assert "exported 2 records as jsonl" in err.getvalue()


def test_csv_is_flat(writer: RecordWriter, store: SqliteStore, ca: Ca) -> None:
    passed = writer.append(draft(ca))
    failed = writer.append(draft(ca, outcome="fail"))
    out = io.StringIO()
    assert cmd_export(store.path, "csv", out, err=io.StringIO()) == 0
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0] == {
        "station": STATION,
        "seq": "1",
        "record_id": passed.record_id,
        "devid": passed.devid,
        "genuine_id": passed.genuine_id,
        "mode": "production",
        "outcome": "pass",
        "started": "2025-03-04T10:00:00.000Z",
        "finished": "2025-03-04T10:00:05.000Z",
        "failure_step": "",
        "failure_code": "",
    }
    assert (rows[1]["record_id"], rows[1]["failure_step"], rows[1]["failure_code"]) == (
        failed.record_id,
        "provision",
        "HTTP 500",
    )


def test_unknown_format_and_missing_store(store: SqliteStore, tmp_path: object) -> None:
    err = io.StringIO()
    assert cmd_export(store.path, "xml", io.StringIO(), err=err) == 2
    assert "unknown format 'xml'; choose jsonl or csv" in err.getvalue()
    err = io.StringIO()
    assert cmd_export(store.path.with_name("none.sqlite3"), "csv", io.StringIO(), err=err) == 2
    assert "no record store at" in err.getvalue()
