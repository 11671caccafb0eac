"""A hostile or broken unit cannot take the station down (issue 14): whole runs beside a good unit.

Each case opens a station with two ``network`` fixtures: slot A1 reaches a simulated unit through the
hostile unit of ``server.py`` (one sabotage per case), slot A2 a good simulated unit. The station runs in
this process, so its memory is measured (``memory.py``) and its console is the headless console's own
``ProgressPrinter``; the stop and console cases also run ``station run`` as a subprocess. Every case checks
what issue 14 asks of the station, all at once so a failure lists everything that went wrong:

- the hostile slot gets a verdict (FAIL or ERROR, ``bad-reply`` for oversize, malformed and untrusted
  replies, a timeout for a slow or silent unit) within its step's deadline plus a margin;
- the good slot passes;
- memory stays bounded (oversize cases: under 100 MB of growth for a 200 MB body or a 4 GB gzip bomb);
- no control character from the unit reaches the console or ``records show``, and records verify;
- a stop (``Station.stop`` from another thread, SIGTERM to ``station run``) ends the station within
  seconds while a unit drips, with the interrupted run accounted for and the records intact.

Client timeouts are short (2 s) so a timed-out call is quick; the drip (0.5 s a byte) stays under them,
as a drip must, to defeat a per-read timeout. Bounds are generous: they catch a station that waits
forever or reads without limit, not a slow one.
"""

from __future__ import annotations

import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from station.app.data import StationData
from station.app.station import Station
from station.cli.console import ProgressPrinter
from station.cli.records import cmd_show, cmd_verify
from station.core.config import KeysSection, load
from station.core.errors import ConfigError
from station.core.events import Event, Outcome, RunFinished
from station.devices.ppa.protocol import generate_mnemonic
from station.factory.backend import LocalBackend
from station.pipeline.engine import Group, Step
from station.pipeline.modes.production import ProductionFlow
from station.pipeline.tally import Verdict
from station.sim.ppa.device import SimulatedPpa
from tests.hostile.memory import MB, MemoryWatch
from tests.hostile.server import (
    Fill,
    HostileUnit,
    Sabotage,
    deep,
    drip,
    duplicate_key,
    endless,
    gzip_bomb,
    hang,
    huge,
    nan,
    redirect,
)
from tests.hostile.server import (
    field as field_value,
)
from tests.pipeline.conftest import quick_retries, toml_text

REPO = Path(__file__).resolve().parents[2]
STATION_ID = "hostile-st01"
HOSTILE, GOOD = "A1", "A2"
STATUS, VERSION = ("GET", "/api/system/status"), ("GET", "/api/system/version")
PASSPHRASE_ENV, MNEMONIC_ENV = "HOSTILE_TEST_PASSPHRASE", "HOSTILE_TEST_MNEMONIC"
ENV = {PASSPHRASE_ENV: "hostile line batch passphrase", MNEMONIC_ENV: generate_mnemonic()}
CLIENT_TIMEOUT = 2.0  # seconds per unit request in these tests
DRIP = 0.5  # seconds between bytes: under CLIENT_TIMEOUT, so no single read ever times out
MARGIN = 10.0  # seconds past a step's deadline the verdict may take (classification, record, slack)
MEMORY_LIMIT = 100 * MB  # growth allowed while a unit sends 200 MB or a gzip bomb
STOP_LIMIT = 5.0  # seconds a stop may take while a unit drips
BAD_REPLY = ("bad-reply",)
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # C0 but newline, DEL, C1
FAKE_LINE = re.compile(rf"^\s*{HOSTILE}\s+PASS\s+fakefakefake", re.MULTILINE)  # the forged line below


def step_deadline(name: str) -> float:
    """The production plan's deadline of step ``name`` (read from the plan, not copied)."""
    flow = ProductionFlow(cast("Any", None), cast("Any", None))
    for item in flow.plan():
        for step in item.steps if isinstance(item, Group) else (item,):
            assert isinstance(step, Step)
            if step.name == name:
                return step.timeout
    raise LookupError(name)


IDENTIFY = step_deadline("identify")
BOUND = IDENTIFY + MARGIN


def timeout_class(code: str) -> bool:
    return "timeout" in code or "deadline" in code


# --- a station over a hostile and a good unit ----------------------------------------------------------


@dataclass
class Bench:
    """A station folder with slot A1 behind ``hostile`` and slot A2 on ``good``."""

    folder: Path
    hostile: HostileUnit
    behind: SimulatedPpa  # the unit the hostile one forwards to
    good: SimulatedPpa
    stations: list[Station] = field(default_factory=list)

    @property
    def config_path(self) -> Path:
        return self.folder / "station.toml"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def open(self, client_timeout: float = CLIENT_TIMEOUT) -> Station:
        station = Station.open(load(self.config_path), environ=ENV, client_timeout=client_timeout)
        self.stations.append(station)
        return station

    def close(self) -> None:
        self.hostile.close()
        for station in self.stations:
            station.stop()
            station.close()
        self.behind.stop()
        self.good.stop()


def write_config(folder: Path, slots: Mapping[str, str]) -> Path:
    document: dict[str, Any] = {
        # ``simulated``: a development station, which needs no operator accounts for ``station run``
        "station": {"id": STATION_ID, "data_dir": "data", "simulated": True},
        "firmware": {},
        "profile": {
            "default": {
                "user": "Hostile Line",
                "email": "",
                "hostname": "ppa.example.com",
                "secrets": "batch",
                "passphrase_env": PASSPHRASE_ENV,
                "mnemonic_env": MNEMONIC_ENV,
            }
        },
        "fixture": [{"slot": slot, "kind": "network", "url": url} for slot, url in slots.items()],
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "station.toml"
    path.write_text(toml_text(document), encoding="utf-8")
    return path


@pytest.fixture
def bench_factory(tmp_path: Path) -> Iterator[Callable[[Mapping[tuple[str, str], Sabotage]], Bench]]:
    made: list[Bench] = []

    def make(rules: Mapping[tuple[str, str], Sabotage]) -> Bench:
        folder = tmp_path / f"station{len(made)}"
        # The station creates its keys on first start; creating them first lets the units trust its
        # check-in key before it opens (as on a line, where units outlive stations).
        checkin = LocalBackend.from_keys(KeysSection(), folder / "data", name=STATION_ID).checkin_public_key()
        behind = SimulatedPpa(backend_key=checkin).start()
        good = SimulatedPpa(backend_key=checkin).start()
        hostile = HostileUnit(behind.http_url, rules).start()
        write_config(folder, {HOSTILE: hostile.url, GOOD: good.http_url})
        bench = Bench(folder, hostile, behind, good)
        made.append(bench)
        return bench

    yield make
    for bench in made:
        bench.close()


@dataclass
class Result:
    """What one whole run showed."""

    verdicts: dict[str, Verdict]
    seconds: dict[str, float]  # from the start of ``run`` to each slot's verdict
    returned: bool  # ``run`` returned by itself within the bound
    console: str
    memory: MemoryWatch
    shown: str = ""  # ``records show`` of the hostile slot's record
    verified: int = -1
    verify_text: str = ""
    problems: list[str] = field(default_factory=list)

    def check(self) -> None:
        if self.problems:
            pytest.fail("\n".join(self.problems))


def run_both(bench: Bench, *, client_timeout: float = CLIENT_TIMEOUT, bound: float = BOUND) -> Result:
    """Run the station for one unit per slot, at most ``bound`` seconds (then close the hostile unit)."""
    station = bench.open(client_timeout)
    console = io.StringIO()
    station.bus.subscribe(ProgressPrinter(console))
    started, finished = time.monotonic(), dict[str, float]()

    def on_event(event: Event) -> None:
        if isinstance(event, RunFinished):
            finished.setdefault(event.slot, time.monotonic() - started)

    station.bus.subscribe(on_event)
    worker = threading.Thread(target=station.run, kwargs={"units": 2}, name="station-run", daemon=True)
    with MemoryWatch(on_trip=bench.hostile.close) as memory:
        worker.start()
        worker.join(bound)
        returned = not worker.is_alive()
    if not returned:  # end the sabotage the station could not, so the test can look at what is left
        bench.hostile.close()
        station.stop()
        worker.join(60)
    assert station.tally is not None
    verdicts = {verdict.slot: verdict for verdict in station.tally.recent}
    station.close()
    result = Result(verdicts, finished, returned, console.getvalue(), memory)
    data = StationData.open(load(bench.config_path))
    out = io.StringIO()
    result.verified = cmd_verify(
        data.store_path, data.trusted_keys(), data.ca_certificate(), out=out, err=out
    )
    result.verify_text = out.getvalue()
    hostile = verdicts.get(HOSTILE)
    if hostile is not None:
        out = io.StringIO()
        cmd_show(
            data.store_path,
            hostile.record.record_id,
            trusted_keys=data.trusted_keys(),
            ca=data.ca_certificate(),
            out=out,
            err=out,
        )
        result.shown = out.getvalue()
    return result


def judge(
    result: Result,
    *,
    codes: tuple[str, ...] | Callable[[str], bool],
    bound: float = BOUND,
    memory_limit: int | None = None,
) -> Result:
    """Collect every way the run fell short of issue 14 into ``result.problems``."""
    problems = result.problems
    hostile, good = result.verdicts.get(HOSTILE), result.verdicts.get(GOOD)
    if hostile is None:
        problems.append(f"the hostile slot {HOSTILE} got no verdict within {bound:.0f} s")
    else:
        failure = hostile.failure
        code = failure.code if failure is not None else ""
        wanted = codes(code) if callable(codes) else code in codes
        if hostile.outcome not in (Outcome.FAIL, Outcome.ERROR) or not wanted:
            expected = "a timeout-class code" if callable(codes) else " or ".join(codes)
            problems.append(
                f"hostile slot: {hostile.outcome.upper()} {failure.as_dict() if failure else ''}, "
                f"expected FAIL/ERROR with {expected}"
            )
        seconds = result.seconds.get(HOSTILE, float("inf"))
        if seconds > bound:
            problems.append(f"hostile slot's verdict took {seconds:.1f} s, more than {bound:.0f} s")
    if not result.returned:
        problems.append(f"station.run did not return within {bound:.0f} s (the hostile unit was then closed)")
    if good is None or good.outcome is not Outcome.PASS:
        got = "no verdict" if good is None else f"{good.outcome.upper()} {good.failure}"
        problems.append(f"the good slot {GOOD} did not pass: {got}")
    if memory_limit is not None and result.memory.growth >= memory_limit:
        problems.append(f"memory: {result.memory.describe()}; limit {memory_limit / MB:.0f} MB")
    elif result.memory.tripped:  # not this case's subject, but it changed what the station saw
        problems.append(f"memory: {result.memory.describe()}")
    problems += clean_text("console", result.console)
    problems += clean_text("records show", result.shown)
    if result.verified != 0:
        problems.append(f"records verify failed ({result.verified}): {result.verify_text.strip()[-300:]}")
    return result


def clean_text(where: str, text: str) -> list[str]:
    """Control characters (but newline) and a forged PASS line of the hostile slot are problems."""
    problems = []
    found = sorted(set(CONTROL.findall(text)))
    if found:
        problems.append(f"{where} output has raw control characters {found!r}")
    if FAKE_LINE.search(text):
        problems.append(f"{where} output has a forged '{HOSTILE} PASS' line")
    return problems


# --- oversize, malformed and untrusted replies ----------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    rules: Mapping[tuple[str, str], Sabotage]
    memory: bool = False  # check memory growth
    field: str | None = None  # the failure message must name this reply field


ESCAPES = "\x1b[31m\x1b]0;station owned\x07"
FORGED = f"\n  {HOSTILE}  PASS  fakefakefake  record spoofed"
CASES = [
    # unbounded replies (issue 14, 1)
    Case("endless", {VERSION: endless()}, memory=True),
    Case("huge-200mb", {VERSION: huge()}, memory=True),
    Case("gzip-bomb", {VERSION: gzip_bomb()}, memory=True),
    # device strings (issue 14, 3): escape codes, a forged console line, oversize
    Case("hwv-escapes-epa", {VERSION: field_value("hwv", f"EPA{ESCAPES}{FORGED}")}, field="hwv"),
    Case("hwv-escapes", {VERSION: field_value("hwv", f"PPA rev 2.2{ESCAPES}{FORGED}")}, field="hwv"),
    Case(
        "fwv-carriage-return",
        {VERSION: field_value("fwv", "Encedo nGINE FW v1.2.2\r  A1  PASS")},
        field="fwv",
    ),
    Case("blv-c1-csi", {VERSION: field_value("blv", "Encedo Secure Bootloader\x9b2J")}, field="blv"),
    Case("hwv-1kb", {VERSION: field_value("hwv", Fill("P", 1024))}, field="hwv"),
    # 20 MB: the 1 MiB reply cap refuses the whole reply before any field is read (bad-reply, no field)
    Case("hwv-20mb", {VERSION: field_value("hwv", Fill("P", 20 * MB))}),
    # JSON edges (issue 14, 5)
    Case("deep-nesting", {VERSION: deep()}),
    Case("temp-nan", {STATUS: nan("temp")}),
    Case("temp-infinity", {STATUS: nan("temp", "Infinity")}),
    Case("inited-false-then-true", {STATUS: duplicate_key("inited", False, True)}),
    Case("inited-true-then-false", {STATUS: duplicate_key("inited", True, False)}),
]


@pytest.mark.usefixtures(quick_retries.__name__)  # a garbled read is read again: without the pauses between
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_reply_is_a_verdict_and_nothing_else(
    bench_factory: Callable[[Mapping[tuple[str, str], Sabotage]], Bench], case: Case
) -> None:
    bench = bench_factory(case.rules)
    result = run_both(bench)
    judge(result, codes=BAD_REPLY, memory_limit=MEMORY_LIMIT if case.memory else None)
    key = next(iter(case.rules))
    if not bench.hostile.fired(*key):
        result.problems.append(f"the sabotage of {key} never fired: the case proved nothing")
    hostile = result.verdicts.get(HOSTILE)
    if hostile is not None and hostile.failure is not None:
        message = hostile.failure.message
        if case.field is not None and case.field not in message:
            result.problems.append(f"the failure does not name the field {case.field!r}: {message[:200]!r}")
        if len(message) > 1000:
            result.problems.append(f"the failure message is {len(message)} characters long")
    if case.name == "hwv-20mb":
        size = (bench.data / "records.sqlite3").stat().st_size
        if size > 5 * MB:
            result.problems.append(f"the records database grew to {size / MB:.0f} MB")
    result.check()


# --- slow and silent units (issue 14, 2) ---------------------------------------------------------------


@pytest.mark.parametrize("sabotage", [drip(DRIP), hang()], ids=["drip", "hang"])
def test_slow_or_silent_unit_times_out_within_the_step_deadline(
    bench_factory: Callable[[Mapping[tuple[str, str], Sabotage]], Bench], sabotage: Sabotage
) -> None:
    bench = bench_factory({VERSION: sabotage})
    result = judge(run_both(bench), codes=timeout_class)
    if not bench.hostile.fired(*VERSION):
        result.problems.append("the sabotage never fired")
    result.check()


@pytest.mark.slow
def test_identify_deadline_bounds_its_calls_at_the_default_client_timeout(
    bench_factory: Callable[[Mapping[tuple[str, str], Sabotage]], Bench],
) -> None:
    """A silent unit at the station's default timeout (10 s): identify ends by its own deadline.

    Three attempts of 10 s with back-off take 31.5 s; the step's deadline must bound the calls inside it.
    """
    bench = bench_factory({VERSION: hang()})
    result = judge(run_both(bench, client_timeout=10.0), codes=timeout_class)
    hostile = result.verdicts.get(HOSTILE)
    if hostile is not None:
        took = hostile.step_seconds.get("identify", 0.0)
        if took > IDENTIFY + 1.0:
            result.problems.append(f"identify took {took:.1f} s against its {IDENTIFY:.0f} s deadline")
    result.check()


# --- transport odds (issue 14, 6) -------------------------------------------------------------------------


def run_until_stopped(bench: Bench, ready: Callable[[Station], bool], *, wait: float = BOUND) -> Result:
    """Run until ``ready`` (or ``wait`` s), then ``stop``; a slot that never saw a unit gets no verdict."""
    station = bench.open()
    console = io.StringIO()
    station.bus.subscribe(ProgressPrinter(console))
    worker = threading.Thread(target=station.run, kwargs={"units": 2}, name="station-run", daemon=True)
    with MemoryWatch(on_trip=bench.hostile.close) as memory:
        worker.start()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and worker.is_alive() and not ready(station):
            time.sleep(0.1)
        station.stop()
        worker.join(STOP_LIMIT)
        returned = not worker.is_alive()
    if not returned:
        bench.hostile.close()
        worker.join(60)
    assert station.tally is not None
    verdicts = {verdict.slot: verdict for verdict in station.tally.recent}
    station.close()
    return Result(verdicts, {}, returned, console.getvalue(), memory)


def good_done_and(condition: Callable[[], bool]) -> Callable[[Station], bool]:
    def ready(station: Station) -> bool:
        tally = station.tally
        return tally is not None and any(v.slot == GOOD for v in tally.recent) and condition()

    return ready


def test_presence_probe_never_follows_a_redirect(
    bench_factory: Callable[[Mapping[tuple[str, str], Sabotage]], Bench],
) -> None:
    bench = bench_factory({STATUS: redirect()})
    hostile = bench.hostile
    result = run_until_stopped(bench, good_done_and(lambda: hostile.fired(*STATUS) >= 3))
    problems = result.problems
    hits = list(hostile.counter.hits)
    if hits:
        problems.append(f"the redirect target got {len(hits)} request(s): {hits[:3]}")
    if hostile.fired(*STATUS) < 1:
        problems.append("the station never asked the hostile unit for its status")
    verdict = result.verdicts.get(HOSTILE)
    if verdict is not None and verdict.outcome is Outcome.PASS:
        problems.append("the redirecting unit passed")
    good = result.verdicts.get(GOOD)
    if good is None or good.outcome is not Outcome.PASS:
        problems.append(f"the good slot did not pass: {good}")
    if not result.returned:
        problems.append(f"station.run did not return within {STOP_LIMIT:.0f} s of stop()")
    problems += clean_text("console", result.console)
    result.check()


def test_presence_probe_reads_a_bounded_status(
    bench_factory: Callable[[Mapping[tuple[str, str], Sabotage]], Bench],
) -> None:
    """The probe asks for the status before every run: a 200 MB status must not be read whole there."""
    bench = bench_factory({STATUS: huge()})
    hostile = bench.hostile
    result = run_until_stopped(bench, good_done_and(lambda: hostile.fired(*STATUS) >= 3))
    problems = result.problems
    if result.memory.growth >= MEMORY_LIMIT:
        problems.append(f"memory: {result.memory.describe()}; limit {MEMORY_LIMIT / MB:.0f} MB")
    verdict = result.verdicts.get(HOSTILE)
    if verdict is not None and (verdict.failure is None or verdict.failure.code != "bad-reply"):
        problems.append(f"hostile slot: {verdict.outcome.upper()} {verdict.failure}, expected bad-reply")
    good = result.verdicts.get(GOOD)
    if good is None or good.outcome is not Outcome.PASS:
        problems.append(f"the good slot did not pass: {good}")
    if not result.returned:
        problems.append(f"station.run did not return within {STOP_LIMIT:.0f} s of stop()")
    result.check()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1:21/",
        "http://user:secret@127.0.0.1:8080",
        "https://127.0.0.1:8443",  # neither pinned nor verifiable against a unit's certificate
    ],
    ids=["file", "ftp", "credentials", "https-unpinned"],
)
def test_fixture_urls_the_station_cannot_use_are_refused_at_load(tmp_path: Path, url: str) -> None:
    path = write_config(tmp_path, {HOSTILE: url})
    with pytest.raises(ConfigError):
        station = Station.open(load(path), environ=ENV, client_timeout=CLIENT_TIMEOUT)
        station.close()  # opened: the URL was accepted


# --- stopping while a unit drips (issue 14, 2) -----------------------------------------------------------


def hostile_run_accounted(data: Path) -> str | None:
    """None if slot A1's run is closed with a record or left open for the next start; else what is wrong."""
    with sqlite3.connect(f"file:{data / 'records.sqlite3'}?mode=ro", uri=True) as connection:
        runs = connection.execute(
            "SELECT state, record_id FROM runs WHERE slot = ? ORDER BY started", (HOSTILE,)
        ).fetchall()
        outcomes = {
            record_id: outcome
            for record_id, outcome in connection.execute("SELECT record_id, outcome FROM records").fetchall()
        }
    if not runs:
        return f"no run of slot {HOSTILE} in the journal"
    state, record_id = runs[-1]
    if state == "open":
        return None  # resolved on the next start, as after a crash
    if record_id not in outcomes:
        return f"slot {HOSTILE}'s run is closed without a record"
    if outcomes[record_id] == "pass":
        return f"slot {HOSTILE}'s interrupted run was recorded as a pass"
    return None


def test_stop_ends_a_run_while_a_unit_drips(
    bench_factory: Callable[[Mapping[tuple[str, str], Sabotage]], Bench],
) -> None:
    """``Station.stop`` (the window's close, a logout) ends the station in seconds, records intact."""
    bench = bench_factory({VERSION: drip(DRIP)})
    station = bench.open(client_timeout=30.0)  # the drip outlasts the stop, whatever the station's deadline
    worker = threading.Thread(target=station.run, kwargs={"units": 2}, name="station-run", daemon=True)
    worker.start()
    problems = []
    assert bench.hostile.wait_fired(*VERSION, timeout=BOUND), "the station never asked for the version"
    time.sleep(1.0)  # well inside the drip
    stopped = time.monotonic()
    station.stop()
    worker.join(STOP_LIMIT)
    took = time.monotonic() - stopped
    if worker.is_alive():
        problems.append(
            f"station.run still running {STOP_LIMIT:.0f} s after stop() (hostile unit then closed)"
        )
        bench.hostile.close()
        worker.join(60)
    station.close()
    data = StationData.open(load(bench.config_path))
    out = io.StringIO()
    if cmd_verify(data.store_path, data.trusted_keys(), data.ca_certificate(), out=out, err=out) != 0:
        problems.append(f"records verify failed: {out.getvalue().strip()[-300:]}")
    wrong = hostile_run_accounted(bench.data)
    if wrong:
        problems.append(wrong)
    assert not problems, "\n".join([*problems, f"(stop took {took:.1f} s)"])


def spawn(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, **ENV, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "station.cli.main", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_sigterm_ends_station_run_while_a_unit_drips(
    bench_factory: Callable[[Mapping[tuple[str, str], Sabotage]], Bench],
) -> None:
    bench = bench_factory({VERSION: drip(DRIP)})
    process = spawn("run", "--config", str(bench.config_path), cwd=bench.folder)
    problems = []
    try:
        deadline = time.monotonic() + BOUND
        while not bench.hostile.wait_fired(*VERSION, timeout=0.2):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the station never asked for the version: {process.communicate(timeout=10)}")
        time.sleep(1.0)  # well inside the drip
        process.send_signal(signal.SIGTERM)
        try:
            out, err = process.communicate(timeout=STOP_LIMIT)
        except subprocess.TimeoutExpired:
            problems.append(f"station run still running {STOP_LIMIT:.0f} s after SIGTERM")
            bench.hostile.close()  # the drip ends; does the station then?
            try:
                out, err = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                out, err = process.communicate(timeout=10)
                problems.append("station run still running 30 s after the hostile unit closed: killed")
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    if "Traceback" in err:
        problems.append(f"station run printed a traceback: {err[-500:]}")
    problems += clean_text("console", out)
    verify = spawn("records", "verify", "--config", str(bench.config_path), cwd=bench.folder)
    verify_out, verify_err = verify.communicate(timeout=60)
    if verify.returncode != 0:
        problems.append(f"records verify exited {verify.returncode}: {(verify_out + verify_err)[-300:]}")
    wrong = hostile_run_accounted(bench.data)
    if wrong:
        problems.append(wrong)
    assert not problems, "\n".join([*problems, "--- stdout:", out[-1500:], "--- stderr:", err[-1500:]])


# --- the real console and ``records show`` (issue 14, 3) ------------------------------------------------


def test_station_run_and_records_show_print_no_unit_control_characters(
    bench_factory: Callable[[Mapping[tuple[str, str], Sabotage]], Bench],
) -> None:
    """``station run`` and ``station records show`` as an operator sees them, with escape codes in ``hwv``."""
    bench = bench_factory({VERSION: field_value("hwv", f"EPA{ESCAPES}{FORGED}")})
    process = spawn("run", "--config", str(bench.config_path), "--units", "2", cwd=bench.folder)
    try:
        out, err = process.communicate(timeout=BOUND)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate(timeout=10)
        pytest.fail(f"station run did not finish two units in {BOUND:.0f} s: {out[-500:]} {err[-500:]}")
    problems = clean_text("station run stdout", out) + clean_text("station run stderr", err)
    with sqlite3.connect(f"file:{bench.data / 'records.sqlite3'}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT record_id, jws FROM records").fetchall()
    assert len(rows) == 2, rows
    for record_id, _ in rows:
        show = spawn("records", "show", "--config", str(bench.config_path), record_id, cwd=bench.folder)
        shown, show_err = show.communicate(timeout=60)
        problems += clean_text(f"records show {record_id}", shown + show_err)
    if not bench.hostile.fired(*VERSION):
        problems.append("the sabotage never fired")
    assert not problems, "\n".join([*problems, "--- stdout:", out[-1500:]])
