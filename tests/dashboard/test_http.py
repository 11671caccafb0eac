"""The dashboard over HTTP (Starlette's test client), on a station's SQLite store and on the line database."""

from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import anyio
import pytest
from starlette.testclient import TestClient

from station.access.pins import Pin, hash_pin
from station.core.errors import RecordError
from station.dashboard import live
from station.dashboard.app import build_app
from station.dashboard.auth import Accounts
from station.dashboard.lineview import line_page
from station.dashboard.openapi import ENDPOINTS
from station.dashboard.source import Source
from station.dashboard.windows import parse_time
from station.records.line.sync import sync
from station.records.model import rfc3339, utc_now
from station.records.store.postgres import PostgresStore
from tests.dashboard.conftest import FAILURES, Line

PAGES = ("/", "/failures", "/failures?window=week", "/profiles", "/report", "/unit", "/report?window=day")


@pytest.fixture(params=["sqlite", "postgres"])
def source(request: pytest.FixtureRequest, line: Line) -> Source:
    if request.param == "sqlite":
        return Source(str(line.store.path), trusted_keys=line.trusted)
    line_url = request.getfixturevalue("line_url")
    assert sync(line.store, PostgresStore(line_url), line.key.public_key()).ok
    return Source(line_url)


@pytest.fixture
def client(source: Source) -> Iterator[TestClient]:
    with TestClient(build_app(source)) as client:
        yield client


def test_every_page_and_its_api_answer(client: TestClient, line: Line) -> None:
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("text/html")
        assert "Skip to content" in answer.text
    unit = line.passed[0].devid
    for path in ENDPOINTS:
        url = path.replace("{record_id}", line.failed[0].record_id)
        answer = client.get(url, params={"q": unit} if path == "/api/unit" else {})
        assert answer.status_code in (200, 400), url  # failures/records without from/to is refused
        assert answer.headers["content-type"] == "application/json"
    assert client.get("/api/nothing").status_code == 404
    assert client.get("/csv/line/nothing.csv").status_code == 404


def test_the_openapi_document_lists_the_api(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert set(ENDPOINTS) <= set(document["paths"])


def test_the_line_page_shows_the_station_and_its_figures(client: TestClient, line: Line) -> None:
    figures = client.get("/api/line").json()
    assert figures["stations"] == 1
    assert figures["records"] == len(line.passed) + len(line.failed) + 1  # and the QA record
    [station] = figures["tables"]["stations"]["rows"]
    assert station["station"] == "line1-st01"
    assert station["state"] == "producing"
    assert station["operator (last record)"] == "op7"
    assert station["open FAIL"] == sum(n for *_, outcome, n in FAILURES if outcome == "fail")
    assert station["open ERROR"] == sum(n for *_, outcome, n in FAILURES if outcome == "error")
    passed_first = len(line.passed)
    assert station["first-pass yield"] == f"{100 * passed_first / (passed_first + len(line.failed)):.1f} %"
    latest = figures["tables"]["latest"]["rows"]
    assert (
        latest[0]["record"] in {r.record_id for r in [*line.passed, *line.failed]}
        or latest[0]["mode"] == "qa"
    )


def test_pareto_totals_equal_the_failing_records(client: TestClient, line: Line) -> None:
    pareto = client.get("/api/failures", params={"window": "day"}).json()
    rows = pareto["tables"]["pareto"]["rows"]
    assert sum(row["total"] for row in rows) == len(line.failed) == pareto["failures"]
    assert [(row["code"], row["total"]) for row in rows] == [(code, n) for _, code, _, _, n in FAILURES]
    assert rows[0]["reason (as the station's window says it)"] == "Provisioning: the unit refused the request"
    assert rows[1]["reason (as the station's window says it)"] == "Firmware: the unit did not answer in time"
    assert rows[-1]["cumulative"] == "100.0 %"
    table = list(csv.DictReader(io.StringIO(client.get("/csv/failures/pareto.csv?window=day").text)))
    assert sum(int(row["total"]) for row in table) == len(line.failed)
    page = client.get("/failures?window=day").text
    assert f"Pareto of {len(line.failed)} failures" in page and "<svg" in page


def test_drill_down_lists_the_records_of_each_bar(client: TestClient, line: Line) -> None:
    figures = client.get("/api/failures", params={"window": "day"}).json()
    now = parse_time(figures["to"])
    listed = set()
    for step, code, _, _, count in FAILURES:
        query = {
            "from": figures["from"],
            "to": rfc3339(now + timedelta(seconds=1)),
            "step": step,
            "code": code,
        }
        rows = client.get("/api/failures/records", params=query).json()["tables"]["records"]["rows"]
        assert len(rows) == count
        listed |= {row["record"] for row in rows}
    assert listed == {record.record_id for record in line.failed}


@pytest.mark.parametrize("key", ["devid", "genuine_id", "record_id"])
def test_search_finds_a_unit_and_verifies_each_record(client: TestClient, line: Line, key: str) -> None:
    record = line.passed[0]
    found = client.get("/api/unit", params={"q": getattr(record, key)}).json()
    rows = found["tables"]["history"]["rows"]
    assert found["found"] == len(rows) == (1 if key == "record_id" else 2)  # production, then QA
    assert all(row["check"] == "verified" and row["signature"].startswith("valid") for row in rows)
    assert rows[0]["record"] == record.record_id
    page = client.get("/unit", params={"q": record.devid}).text
    assert "✓" in page and "verified" in page and record.record_id in page


def test_a_record_signed_by_an_unknown_key_shows_failed(line: Line) -> None:
    with TestClient(build_app(Source(str(line.store.path), trusted_keys={}))) as client:
        rows = client.get("/api/unit", params={"q": line.passed[0].devid}).json()["tables"]["history"]["rows"]
    assert rows and all(row["check"] == "FAILED" and "unknown key" in row["signature"] for row in rows)


def test_a_record_page_and_an_unknown_record(client: TestClient, line: Line) -> None:
    failed = line.failed[0]
    page = client.get(f"/api/record/{failed.record_id}").json()
    fields = {row["field"]: row["value"] for row in page["tables"]["record"]["rows"]}
    assert fields["failure code"] == "HTTP 406" and fields["check"] == "verified"
    assert client.get("/record/no-such-record").status_code == 404
    assert client.get("/api/record/no-such-record").status_code == 404


def test_profiles_count_units_per_profile(client: TestClient) -> None:
    totals = client.get("/api/profiles").json()["tables"]["totals"]["rows"]
    made = {row["profile"]: row["units made"] for row in totals}
    assert made == {"bank": 3, "default": 1}


def test_the_shift_report_has_the_record_id_range(client: TestClient, line: Line) -> None:
    report = client.get("/api/report").json()
    [station] = report["tables"]["stations"]["rows"]
    assert station["first record"] == line.passed[0].record_id
    assert station["seq"] == f"1-{len(line.passed) + len(line.failed) + 1}"
    assert sum(row["total"] for row in report["tables"]["reasons"]["rows"]) == len(line.failed)
    assert "@media print" in client.get("/static/dashboard.css").text


def test_windows_and_pages_are_bounded(client: TestClient) -> None:
    assert client.get("/api/failures", params={"window": "year"}).status_code == 400
    far = {"from": "2025-01-01T00:00:00Z", "to": "2025-03-01T00:00:00Z"}
    assert "at most 31 days" in client.get("/api/failures", params=far).json()["error"]
    assert client.get("/failures", params={"from": "yesterday", "to": "today"}).status_code == 400
    near = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z", "page": "x"}
    assert client.get("/api/failures/records", params=near).status_code == 400
    assert client.get("/api/unit", params={"q": "x" * 5000}).json()["query"] == "x" * 200


def test_csv_cells_cannot_become_formulas(client: TestClient) -> None:
    text = client.get("/csv/line/stations.csv").text
    assert text.startswith("station,mode,state")
    assert "\n=" not in text and ",=" not in text


def test_security_headers_on_every_answer(client: TestClient) -> None:
    for path in ("/", "/api/line", "/static/dashboard.js", "/nothing"):
        headers = client.get(path).headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"


def test_the_sessions_cannot_write(source: Source) -> None:
    with pytest.raises(RecordError, match=r"read-only|readonly"), source.session() as session:
        session.rows(
            "INSERT INTO records (station_id, seq, record_id, mode, outcome, created, jws) "
            "VALUES ('x', 1, 'x', 'qa', 'pass', 'x', 'x')",
            (),
        )


def test_a_station_that_stops_turns_silent_by_itself(source: Source) -> None:
    later = rfc3339(utc_now() + timedelta(minutes=47))
    with source.session() as session:
        [row] = line_page(session, now=later).table("stations").rows  # type: ignore[union-attr]
    assert str(row[2]) == "silent 47 min" and row[2].mark == "■"


def test_a_station_store_with_unsent_records_is_sync_behind(line: Line, line_url: str) -> None:
    assert sync(line.store, PostgresStore(line_url), line.key.public_key()).ok
    line.add_pass()  # written, not synced yet
    with TestClient(build_app(Source(str(line.store.path), trusted_keys=line.trusted))) as client:
        [station] = client.get("/api/line").json()["tables"]["stations"]["rows"]
    assert station["state"] == "sync behind"


def test_new_records_arrive_as_events(source: Source, line: Line, request: pytest.FixtureRequest) -> None:
    streams = live.Streams()
    assert streams.take()

    async def watch() -> list[str]:
        stream = live.events(source, streams, poll=0.05, tick=3600)
        seen = [await anext(stream)]  # the retry hint: the stream looked at the database once
        record = line.add_pass()
        if source.kind == "postgres":
            sync(line.store, PostgresStore(source.target), line.key.public_key())
        while record.record_id not in seen[-1]:
            seen.append(await anext(stream))
        await stream.aclose()  # type: ignore[attr-defined]
        return seen

    seen = anyio.run(watch)
    assert seen[-1].startswith("event: records\n")
    assert streams.open == 0  # given back when the page went away


def test_no_secret_reaches_a_page(line: Line, pg_admin: str, line_url: str) -> None:
    """The line database's password and the store's PIN hashes never show, on a page, in the API or CSV."""
    with sqlite3.connect(line.store.path) as connection:
        connection.execute(
            "INSERT INTO users (badge, name, role, pin_hash, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
            ("B0042", "Ada", "admin", hash_pin(Pin("482916"), n=2**4), "2025-01-01", "2025-01-01"),
        )
    assert sync(line.store, PostgresStore(line_url), line.key.public_key()).ok
    secret = "Sekret-Line-Pw-77"
    with_password = line_url.replace("postgres@", f"postgres:{secret}@")  # trust authentication ignores it
    down = f"postgresql://dash:{secret}@127.0.0.1:9/line"
    for target in (str(line.store.path), with_password, down):
        with TestClient(build_app(Source(target, trusted_keys=line.trusted))) as client:
            paths = [
                *PAGES,
                *(p.replace("/", "/api/", 1) for p in PAGES if p != "/"),
                "/api/line",
                f"/unit?q={line.passed[0].devid}",
                f"/record/{line.passed[0].record_id}",
                "/csv/line/stations.csv",
                "/csv/report/stations.csv",
                "/api/openapi.json",
            ]
            for path in paths:
                text = client.get(path).text
                assert secret not in text and "scrypt$" not in text and "482916" not in text, path
            if target == down:
                assert client.get("/").status_code == 503


def _accounts(line: Line) -> Accounts:
    with sqlite3.connect(line.store.path) as connection:
        for badge, role in (("B0001", "operator"), ("B0002", "qa")):
            connection.execute(
                "INSERT INTO users (badge, name, role, pin_hash, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
                (badge, f"user {badge}", role, hash_pin(Pin("482916"), n=2**4), "2025-01-01", "2025-01-01"),
            )
    return Accounts(line.store.path)


def test_beyond_localhost_a_login_and_a_role(line: Line) -> None:
    app = build_app(Source(str(line.store.path), trusted_keys=line.trusted), accounts=_accounts(line))
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/", follow_redirects=False).headers["location"] == "/login"
        assert client.get("/api/line").status_code == 401
        assert client.post("/login", data={"badge": "B0001", "pin": "000000"}).status_code == 401
        answer = client.post("/login", data={"badge": "B0001", "pin": "482916"}, follow_redirects=False)
        assert answer.status_code == 303 and "httponly" in answer.headers["set-cookie"].lower()
        assert client.get("/api/line").status_code == 200
        assert client.get("/unit", params={"q": line.passed[0].devid}).status_code == 403  # a viewer
        client.post("/logout")
        client.post("/login", data={"badge": "B0002", "pin": "482916"})
        assert client.get("/unit", params={"q": line.passed[0].devid}).status_code == 200  # quality


def test_wrong_pins_lock_the_badge_here(line: Line) -> None:
    accounts = _accounts(line)
    for _ in range(5):
        assert accounts.login("B0001", "111111") is None
    assert accounts.login("B0001", "482916") is None  # locked, though right


def test_serve_refuses_a_network_address_without_tls_and_login(tmp_path: object) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "station.cli.main",
            "line",
            "serve",
            "--store",
            "x.sqlite3",
            "--listen",
            "0.0.0.0:8080",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert "needs --tls-cert, --tls-key and --accounts" in done.stderr


def test_search_finds_a_reader_by_its_device_id(line: Line) -> None:
    from dataclasses import replace

    from station.records.model import ReaderIdentity
    from tests.records.factories import draft

    reader = ReaderIdentity(
        device_id="vkYkoELRDS3p9xhQO1lx8a", serial="S1", config_id="C", config_sha256="0" * 64
    )
    record = line.writer.append(replace(draft(), mode="readers", unit=reader))
    with TestClient(build_app(Source(str(line.store.path), trusted_keys=line.trusted))) as client:
        found = client.get("/api/unit", params={"q": "vkYkoELRDS3p9xhQO1lx8a"}).json()
        page = client.get(f"/api/record/{record.record_id}").json()
    [row] = found["tables"]["history"]["rows"]
    assert row["record"] == record.record_id and row["mode"] == "readers" and row["check"] == "verified"
    unit = {r["field"]: r["value"] for r in page["tables"]["unit"]["rows"]}
    assert unit["device_id"] == "vkYkoELRDS3p9xhQO1lx8a" and unit["history"] == "whole history of this unit"


def test_a_counted_day_is_counted_again_when_a_record_of_it_arrives_late(
    synced_line: tuple[Line, str],
) -> None:
    import psycopg

    line, url = synced_line
    today = utc_now().replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = {"from": rfc3339(today - timedelta(days=1)), "to": rfc3339(today)}
    with TestClient(build_app(Source(url))) as client:
        assert client.get("/api/profiles", params=yesterday).json()["tables"]["profiles"]["rows"] == []
        late = line.passed[0]
        with psycopg.connect(url, autocommit=True) as connection:  # a station that synced a day late
            connection.execute(
                "INSERT INTO records (station_id, seq, record_id, devid, genuine_id, mode, outcome, created, "
                "jws) VALUES ('late-st01', 1, 'late-1', 'late-unit', NULL, 'production', 'pass', %s, %s)",
                (rfc3339(today - timedelta(hours=12)), late.jws),
            )
        rows = client.get("/api/profiles", params=yesterday).json()["tables"]["profiles"]["rows"]
    assert [(row["profile"], row["units made"]) for row in rows] == [("bank", 1)]


def test_every_csv_link_on_every_page_answers(client: TestClient, line: Line) -> None:
    import html
    import re

    pages = [*PAGES, f"/unit?q={line.passed[0].devid}", f"/record/{line.failed[0].record_id}"]
    links = set()
    for path in pages:
        links |= {html.unescape(href) for href in re.findall(r'href="(/csv/[^"]+)"', client.get(path).text)}
    assert len(links) >= 8
    for link in sorted(links):
        answer = client.get(link)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv"), link
