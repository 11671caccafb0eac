"""Line dashboard speed (issue 20): page and API latency over a 500 000-record line database, live delay.

Example::

    python -m bench.dashboard                  # 500 000 records; STATION_TEST_PG or a throwaway cluster
    python -m bench.dashboard --records 50000 --requests 20

The line: 9 production stations and a QA bench, 35 days of records ending at the build time (about
14 000 a day; 4 % FAIL and 2 % ERROR over eight step/code reasons, half of the failed units retried,
four profiles, six operators). Each record is signed as a station signs it (Ed25519 over canonical
JSON); passing records carry one of 256 pre-issued device certificates (each unit its own devid and
genuine id). Built once: the signed rows go to COPY files under the cache folder (``--cache``, default
~/.cache/ppa-station/bench-dashboard) with the stations' keys, and into a database
``dashboard_bench_<N>`` that later runs on the same server reuse (a throwaway cluster reloads the
files). The dashboard serves it over real HTTP (uvicorn) as a SELECT-only role, its clock set to the
build time so the windows hold the same records every run. Every page and API answer is requested
``--requests`` times after one first request; p50/p95/max are printed against the 200 ms target. The
live delay is from the commit of a real sync (a new station's record) to the record's arrival as a
server-sent event.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg import sql

from bench.harness import RESULT_PREFIX
from station.dashboard.app import build_app
from station.dashboard.server import Background
from station.dashboard.source import Source
from station.records import Failure, Links, RecordDraft, RecordWriter, SqliteStore, key_id
from station.records.jws import sign
from station.records.line.sync import sync
from station.records.model import GENESIS_PREV, SOFTWARE, StationInfo, build_payload, chain_hash, rfc3339
from station.records.store.admin import migrate_target, set_test_line
from station.records.store.postgres import PostgresStore, public_key_text
from tests.pgserver import create_database, pg_server, unavailable_reason, with_database
from tests.records.factories import CONFIG_SHA256, draft, make_ca

TARGET_MS = 200.0
STATIONS = [f"line1-st{n:02d}" for n in range(1, 10)] + ["line1-qa01"]
DAYS = 35
REASONS = [  # step, code, message, outcome, weight
    ("provision", "HTTP 406", "POST /api/system/provision: refused with 406", "fail", 30),
    ("firmware", "timeout", "GET /api/system/status: no answer within 10 s", "error", 20),
    ("verify-lock", "lock-open", "the unit still accepts a certificate", "fail", 12),
    ("attest", "HTTP 500", "GET /api/system/attest: failed on the unit with 500", "error", 10),
    ("check-in", "backend-refused", "the backend refused the check-in", "fail", 10),
    ("identify", "garbled", "GET /api/system/status: reply is not JSON", "error", 8),
    ("personalize", "HTTP 409", "POST /api/system/config: refused with 409", "fail", 6),
    ("certificate", "ca-offline", "the factory CA did not answer", "error", 4),
]
PROFILES = ["bank-2026", "default", "gov-eu", "retail"]
OPERATORS = [f"B00{n}" for n in range(41, 47)]
COLUMNS = "station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws"


def station_rows(job: tuple[int, str, int, str, str]) -> str:
    """Sign one station's chain into a COPY file (run in a worker process); returns the file's path.

    Payloads are made once per kind with ``build_payload`` (validated), then copied with this record's
    fields: what stays per record is canonical JSON and an Ed25519 signature, as on a station.
    """
    index, station, count, end_text, folder = job
    rng = random.Random(index)
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    (Path(folder) / f"{station}.key").write_bytes(raw)
    kid = key_id(key.public_key())
    info = StationInfo(station, SOFTWARE, CONFIG_SHA256, kid)
    ca = make_ca()

    def made(shaped: RecordDraft) -> dict[str, Any]:
        return build_payload(shaped, station=info, seq=1, prev=GENESIS_PREV, record_id=str(uuid.uuid4()))

    pool = [made(draft(ca)) for _ in range(256)]  # passing units, each with its own certificate
    failing = [
        made(replace(draft(outcome=outcome), failure=Failure(step_name, code, message)))
        for step_name, code, message, outcome, _ in REASONS
    ]
    checking = made(replace(draft(mode="qa"), links=Links(verifies=str(uuid.uuid4()))))
    end = datetime.fromisoformat(end_text)
    step = timedelta(days=DAYS) / count
    first = end - timedelta(days=DAYS) + step * (index / len(STATIONS))
    qa = station.startswith("line1-qa")
    weights = [reason[-1] for reason in REASONS]
    prev, retry = GENESIS_PREV, None
    path = Path(folder) / f"{station}.tsv.gz"
    with gzip.open(path, "wt", compresslevel=1) as out:
        for seq in range(1, count + 1):
            created = first + step * (seq - 1)
            unit = pool[rng.randrange(256)]
            devid = retry or f"{index:02x}{seq:014x}"
            if qa:
                payload = dict(checking)
                devid = f"{rng.randrange(9):02x}{seq:014x}"
            elif rng.random() >= 0.06:
                payload, retry = dict(unit), None
            else:
                payload = dict(rng.choices(failing, weights)[0])
                retry = devid if rng.random() < 0.5 else None
            payload.update(
                record_id=str(uuid.uuid4()),
                seq=seq,
                prev=prev,
                unit={**unit["unit"], "devid": devid, "genuine_id": "9e" + devid},
                started=rfc3339(created - timedelta(seconds=40)),
                finished=rfc3339(created),
                operator={"id": OPERATORS[(seq // 400 + index) % len(OPERATORS)], "role": "operator"},
                personalization={
                    "profile": PROFILES[(seq // 3000 + index) % len(PROFILES)],
                    "hostname": "my.ence.do",
                },
            )
            jws = sign(payload, key, kid)
            prev = chain_hash(jws)
            shown = payload["unit"]
            fields = [
                station,
                str(seq),
                payload["record_id"],
                shown["devid"],
                shown["genuine_id"],
                payload["mode"],
                payload["outcome"],
                rfc3339(created),
                jws,
            ]
            out.write("\t".join(fields) + "\n")
    return str(path)


def build_cache(folder: Path, records: int, end: datetime) -> None:
    """The signed rows of every station, in COPY files (two worker processes; minutes for 500 000)."""
    folder.mkdir(parents=True, exist_ok=True)
    per = records // len(STATIONS)
    jobs = [
        (i, s, per + (1 if i < records % len(STATIONS) else 0), end.isoformat(), str(folder))
        for i, s in enumerate(STATIONS)
    ]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(min(2, os.cpu_count() or 1)) as pool:
        pool.map(station_rows, jobs)
    (folder / "built_at").write_text(rfc3339(end))
    print(f"signed {records} records in {time.perf_counter() - started:.0f} s into {folder}", flush=True)


def load(url: str, folder: Path) -> None:
    """COPY the cached rows into a migrated line database, register the keys, ANALYZE and VACUUM."""
    started = time.perf_counter()
    migrate_target(url)
    set_test_line(PostgresStore(url), True)  # the live station's units are simulated
    with psycopg.connect(url, autocommit=True) as connection:
        # The gapless check looks up each station's last seq per row with a plan made while the table was
        # empty (a scan): quadratic over a bulk load. These chains are gapless by construction (built above).
        connection.execute("ALTER TABLE records DISABLE TRIGGER records_gapless")
        for station in STATIONS:
            key = Ed25519PrivateKey.from_private_bytes((folder / f"{station}.key").read_bytes())
            connection.execute(
                "INSERT INTO stations (station_id, key_id, public_key) VALUES (%s, %s, %s)",
                (station, key_id(key.public_key()), public_key_text(key.public_key())),
            )
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY records ({COLUMNS}) FROM STDIN") as copy,
                gzip.open(folder / f"{station}.tsv.gz", "rb") as rows,
            ):
                while chunk := rows.read(1 << 20):
                    copy.write(chunk)
        connection.execute("ALTER TABLE records ENABLE TRIGGER records_gapless")
        connection.execute("VACUUM (ANALYZE) records")
    print(f"loaded into PostgreSQL in {time.perf_counter() - started:.0f} s", flush=True)


def line_database(admin: str, records: int, cache: Path) -> tuple[str, str]:
    """The bench database's URL (built or reused) and its build time."""
    folder = cache / f"records-{records}"
    if not (folder / "built_at").exists():
        build_cache(folder, records, datetime.now(UTC).replace(microsecond=0))
    built_at = (folder / "built_at").read_text().strip()
    name = f"dashboard_bench_{records}"
    url = with_database(admin, name)
    try:
        with psycopg.connect(url) as connection:
            held = connection.execute(
                "SELECT count(*) FROM records WHERE station_id NOT LIKE 'bench-live-%'"
            ).fetchone()
        if held is not None and held[0] == records:
            print(f"reusing database {name} ({records} records)", flush=True)
            return url, built_at
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    except psycopg.OperationalError:
        pass  # no such database yet
    create_database(admin, name)
    load(url, folder)
    return url, built_at


def read_only_role(admin: str, url: str) -> str:
    """A login role that may only SELECT (docs/dashboard.md), and the URL that logs in as it."""
    role = "dashboard_bench"
    with psycopg.connect(admin, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
            connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(role)))
        connection.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(sql.Identifier(role))
        )
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    return with_database(url, str(name), user=role)


def paths(client: httpx.Client) -> dict[str, str]:
    """What a supervisor opens: every page and API answer, with the week windows as the heaviest."""
    week = client.get("/api/failures?window=week").json()
    top = week["tables"]["pareto"]["rows"][0]
    step = next(reason[0] for reason in REASONS if reason[1] == top["code"])
    drill = f"/failures/records?from={week['from']}&to={week['to']}&step={step}&code={top['code']}"
    failed = client.get("/api" + drill).json()["tables"]["records"]["rows"]
    unit = failed[0]["unit"]  # a unit that failed: its history may hold a retry
    record = client.get(f"/api/unit?q={unit}").json()["tables"]["history"]["rows"][0]["record"]
    return {
        "line (shift)": "/",
        "failures (shift)": "/failures",
        "failures (day)": "/failures?window=day",
        "failures (week)": "/failures?window=week",
        "drill-down (week, top reason)": drill,
        "unit search (verified)": f"/unit?q={unit}",
        "record (verified)": f"/record/{record}",
        "profiles (week)": "/profiles",
        "shift report": "/report",
        "API line": "/api/line",
        "API failures (week)": "/api/failures?window=week",
        "API profiles (week)": "/api/profiles",
        "CSV pareto (week)": "/csv/failures/pareto.csv?window=week",
    }


def latency(client: httpx.Client, path: str, requests: int) -> dict[str, float]:
    first = time.perf_counter()
    assert client.get(path).status_code == 200, path
    cold = time.perf_counter() - first
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(path)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, path
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    return {
        "first_ms": cold * 1000,
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": p95 * 1000,
        "max_ms": times[-1] * 1000,
    }


def live_delays(address: str, url: str, samples: int) -> list[float]:
    """From the commit of a sync to the record's arrival as an event, for ``samples`` records."""
    arrived: dict[str, float] = {}
    ready = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(base_url=address, timeout=120) as client,
            client.stream("GET", "/events") as stream,
        ):
            for text in stream.iter_lines():
                ready.set()
                if text.startswith("data: ["):
                    for row in json.loads(text[6:]):
                        arrived.setdefault(row["record_id"], time.perf_counter())
                if len(arrived) >= samples:
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    ready.wait(30)
    key = Ed25519PrivateKey.generate()
    delays = []
    with tempfile.TemporaryDirectory(prefix="bench-live-") as folder:
        store = SqliteStore(Path(folder) / "records.sqlite3")
        writer = RecordWriter(
            store,
            key,
            key_id(key.public_key()),
            f"bench-live-{uuid.uuid4().hex[:6]}",
            config_sha256=CONFIG_SHA256,
        )
        line = PostgresStore(url)
        for _ in range(samples):
            record = writer.append(draft(outcome="fail"))
            assert sync(store, line, key.public_key()).ok
            committed = time.perf_counter()
            deadline = committed + 30
            while record.record_id not in arrived and time.perf_counter() < deadline:
                time.sleep(0.005)
            delays.append(arrived.get(record.record_id, float("inf")) - committed)
            time.sleep(random.uniform(0.2, 0.7))  # land anywhere in the dashboard's poll interval
    return delays


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500_000, help="line database size (default 500 000)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument("--live", type=int, default=10, help="records timed from sync to page (default 10)")
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "ppa-station" / "bench-dashboard"
    )
    args = parser.parse_args()
    reason = unavailable_reason()
    if reason is not None:
        print(f"dashboard latency: not run ({reason})")
        return 0
    with pg_server() as admin:
        assert admin is not None
        url, built_at = line_database(admin, args.records, args.cache)
        source = Source(read_only_role(admin, url))
        with (
            Background(build_app(source, clock=lambda: built_at)) as address,
            httpx.Client(base_url=address, timeout=60) as client,
        ):
            print(
                f"{'page or answer':<34} {'first':>8} {'p50':>8} {'p95':>8} {'max':>8}   target p95 < 200 ms"
            )
            worst = 0.0
            for name, path in paths(client).items():
                figures = latency(client, path, args.requests)
                worst = max(worst, figures["p95_ms"])
                verdict = "ok" if figures["p95_ms"] < TARGET_MS else "OVER"
                print(
                    f"{name:<34} "
                    + " ".join(f"{figures[k]:6.0f}ms" for k in ("first_ms", "p50_ms", "p95_ms", "max_ms"))
                    + f"   {verdict}",
                    flush=True,
                )
                print(
                    RESULT_PREFIX,
                    json.dumps({"figure": f"dashboard {name}", "records": args.records, **figures}),
                )
            delays = sorted(live_delays(address, url, args.live))
        p95 = delays[min(len(delays) - 1, round(0.95 * len(delays)) - 1)]
        print(f"worst page p95: {worst:.0f} ms over {args.records} records (target < {TARGET_MS:.0f} ms)")
        print(
            f"live delay, sync commit -> event on the page: median {statistics.median(delays):.2f} s, "
            f"p95 {p95:.2f} s over {len(delays)} records (the dashboard looks every 1 s)"
        )
        print(
            RESULT_PREFIX,
            json.dumps(
                {
                    "figure": "dashboard live delay",
                    "median_s": statistics.median(delays),
                    "p95_s": p95,
                    "worst_page_p95_ms": worst,
                }
            ),
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
