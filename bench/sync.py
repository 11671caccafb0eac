"""Line database speed: records/s the sync pushes into PostgreSQL, and how fast a long chain verifies.

Example::

    python -m bench.sync                       # 100 000 records; STATION_TEST_PG or a throwaway cluster
    python -m bench.sync --records 20000 --batch 500

Builds one station's chain of N signed records in a SQLite store (every 4th a passing production record
with a device certificate, the rest failures, as ``tests/records/chains.py`` writes them), then times:
``verify_store`` on the SQLite store (signatures, schema, chain links, certificates, registry), one
``sync`` of the whole chain into an empty line database (verify, insert, register, mark sent: what a
station that was offline for a long time does), and ``verify_store`` on the line database. Each line
gives wall-clock time and rate, and this process's CPU time beside it (PostgreSQL's own CPU is not in
it): on a busy machine the CPU figure is the one to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.harness import CPUS, RESULT_PREFIX
from station.records import SqliteStore, trusted_keys_from, verify_store
from station.records.line.sync import sync
from station.records.store.admin import migrate_target, set_test_line
from station.records.store.postgres import PostgresStore
from tests.pgserver import create_database, drop_database, pg_server, unavailable_reason
from tests.records.chains import write_chain
from tests.records.factories import make_ca

STATION = "bench-st01"
CHUNK = 5_000  # records per write_chain transaction while building the chain
BUSY = 0.10  # other processes' share of the cores above which a line says the wall figure is pessimistic


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="chain length (default 100 000)")
    parser.add_argument("--batch", type=int, default=500, help="records per sync transaction (default 500)")
    args = parser.parse_args()
    ca, key = make_ca(), Ed25519PrivateKey.generate()
    trusted = trusted_keys_from([key.public_key()])
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as folder:
        local = SqliteStore(Path(folder) / "records.sqlite3")
        started = clocks()
        for done in range(0, args.records, CHUNK):
            write_chain(local, key, STATION, min(CHUNK, args.records - done), ca=ca, passing_every=4)
        report(f"build a {args.records}-record chain (sign, store)", args.records, started, "build")

        started = clocks()
        verified = verify_store(local, trusted, ca.certificate)
        assert verified.ok, verified.first
        report("verify the chain in SQLite (records verify)", args.records, started, "verify_sqlite")

        reason = unavailable_reason()
        if reason is not None:
            print(f"sync into PostgreSQL: skipped ({reason})")
            return 0
        with pg_server() as admin:
            assert admin is not None
            name = f"bench_{uuid.uuid4().hex[:8]}"
            url = create_database(admin, name)
            try:
                migrate_target(url)
                line = PostgresStore(url)
                set_test_line(line, True)  # the chain is of simulated units, which only a test line takes
                started = clocks()
                pushed = sync(local, line, key.public_key(), batch=args.batch)
                assert pushed.ok and pushed.sent == args.records, pushed
                report(f"sync into PostgreSQL (batch {args.batch}, verified)", args.records, started, "sync")
                started = clocks()
                assert verify_store(line, line.station_keys(), ca.certificate).ok
                report("verify the chain in the line database", args.records, started, "verify_line")
            finally:
                drop_database(admin, name)
    return 0


TARGETS = {"verify_sqlite": 20_000.0, "sync": 10_000.0, "verify_line": 20_000.0}  # records/s, issue 19
Clocks = tuple[float, float, float | None]


def clocks() -> Clocks:
    """Wall clock, CPU time of this process and its finished children (the verify workers), and the
    whole machine's busy CPU time (to say how much other processes took)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return time.perf_counter(), cpu, _machine_busy()


def report(what: str, count: int, started: Clocks, key: str) -> None:
    """One line: wall rate, its ratio to the target, and the CPU figures that hold up on a busy machine.

    ``cpu_per_s`` is ``count`` over this process's and its workers' CPU seconds; times the cores it is
    the rate the records checks would reach with every core to themselves (PostgreSQL's own CPU is not
    in it). ``others`` is the share of the cores other processes took meanwhile: above ~10 % the wall
    figure is pessimistic.
    """
    now = clocks()
    wall, cpu = now[0] - started[0], now[1] - started[1]
    rate, cpu_rate = count / wall, count / max(cpu, 1e-9)
    others = None
    if now[2] is not None and started[2] is not None:
        others = max(0.0, (now[2] - started[2] - cpu) / (wall * CPUS))
    target = TARGETS.get(key)
    versus = "" if target is None else f" (target {target:,.0f}: {rate / target:.2f}x)"
    busy = "" if others is None else f"; other processes took {100 * others:.0f}% of the {CPUS} cores"
    if others is not None and others > BUSY:
        busy += f" (loaded: {cpu_rate * CPUS:,.0f}/s on {CPUS} free cores, by CPU time)"
    print(
        f"{what:<50} {wall:7.1f} s {rate:7,.0f} records/s{versus}\n"
        f"{'':<50} CPU {cpu:6.1f} s {cpu_rate:7,.0f}/CPU second{busy}",
        flush=True,
    )
    result = {
        "figure": key,
        "records": count,
        "per_s": rate,
        "cpu_per_s": cpu_rate,
        "cpus": CPUS,
        "others_share": others,
        "target": target,
    }
    print(RESULT_PREFIX, json.dumps(result), flush=True)  # for bench.run's summary table


def _machine_busy() -> float | None:
    """Busy CPU seconds of the whole machine since boot (/proc/stat; None elsewhere)."""
    try:
        with Path("/proc/stat").open() as stat:
            fields = [int(value) for value in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    raise SystemExit(main())
