"""A station killed (SIGKILL) at every step and started again: no record lost or duplicated, no unit
provisioned twice, the chain still verifies.

Each case runs real processes: ``station sim ppa`` (which outlives the station) and ``station run`` over a
``network`` fixture. A fault rule holds the unit's reply at the chosen step — ``stall`` after the unit did
the work, ``delay`` before it — so the kill lands exactly there; the test waits for a condition it can
observe (the journal, or the unit's own state) before it kills.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from station.devices.ppa.protocol import generate_mnemonic
from tests.firmwaretools import SHIPPED_RELEASE_KEY

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 10
HOLD = 60  # seconds a stalled reply is held: far longer than any case needs to kill the station
MNEMONIC = generate_mnemonic()


@dataclass
class Case:
    name: str
    fault: str
    kill_when: Callable[[Path, str], bool]
    outcome: str
    code: str | None = None


def journal_has(step: str, phase: str) -> Callable[[Path, str], bool]:
    def check(data: Path, url: str) -> bool:
        db = data / "records.sqlite3"
        if not db.exists():
            return False
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
                row = connection.execute(
                    "SELECT 1 FROM journal WHERE step = ? AND phase = ?", (step, phase)
                ).fetchone()
        except sqlite3.OperationalError:  # the station is still creating its schema
            return False
        return row is not None

    return check


def unit_shows(predicate: Callable[[dict[str, object]], bool], path: str) -> Callable[[Path, str], bool]:
    def check(data: Path, url: str) -> bool:
        try:
            return predicate(requests.get(url + path, timeout=2).json())
        except (requests.RequestException, ValueError):
            return False

    return check


def both(*checks: Callable[[Path, str], bool]) -> Callable[[Path, str], bool]:
    return lambda data, url: all(check(data, url) for check in checks)


PROVISIONING = "path=/api/system/config/provisioning method=POST"
CASES = [
    Case(
        "identify",
        f"stall s={HOLD} path=/api/system/version times=1",
        journal_has("identify", "start"),
        "pass",
    ),
    Case(
        "firmware-upload",
        f"stall s={HOLD} path=/api/system/upgrade/upload_fw times=1",
        journal_has("firmware", "intent"),
        "pass",
    ),
    Case(
        "firmware-install",
        "stall s=1 path=/api/system/upgrade/install_fw times=1",
        journal_has("firmware", "intent"),
        "pass",
    ),
    Case(
        "check-in",
        f"stall s={HOLD} path=/api/system/checkin method=POST times=1",
        unit_shows(lambda status: "time" in status, "/api/system/status"),
        "pass",
    ),
    Case(
        "attest",
        f"stall s={HOLD} path=/api/system/config/attestation times=1",
        journal_has("attest", "start"),
        "pass",
    ),
    Case(
        "before-provision",
        f"delay s={HOLD} {PROVISIONING} times=1",
        journal_has("provision", "intent"),
        "pass",
    ),
    Case(
        "provision",
        f"stall s={HOLD} {PROVISIONING} times=1",
        both(
            journal_has("provision", "intent"),
            unit_shows(lambda a: "crt" in a, "/api/system/config/attestation"),
        ),
        "pass",
    ),
    Case(
        "verify-lock",
        f"stall s={HOLD} {PROVISIONING} skip=1 times=1",
        journal_has("verify-lock", "start"),
        "pass",
    ),
    Case(
        "before-personalize",
        f"delay s={HOLD} path=/api/auth/init method=POST times=1",
        journal_has("personalize", "intent"),
        "pass",
    ),
    Case(
        "personalize",
        f"stall s={HOLD} path=/api/auth/init method=POST times=1",
        unit_shows(lambda status: "inited" not in status, "/api/system/status"),
        "fail",
        "personalised-before-interruption",
    ),
    Case(
        "verify",
        f"stall s={HOLD} path=/api/logger/key times=1",
        journal_has("verify", "start"),
        "fail",
        "personalised-before-interruption",
    ),
]


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def spawn(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "STATION_BATCH_PASSPHRASE": "batch passphrase 1"}
    env["STATION_BATCH_MNEMONIC"] = MNEMONIC
    return subprocess.Popen(
        [sys.executable, "-m", "station.cli.main", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def write_config(folder: Path, url: str) -> None:
    (folder / "station.toml").write_text(
        f"""
[station]
id = "crash-st01"
data_dir = "data"
simulated = true
[firmware]
dir = "{REPO / "firmware_images"}"
require = "Encedo nGINE FW v1.2.3"
release_key = "{SHIPPED_RELEASE_KEY}"
[profile.default]
secrets = "batch"
passphrase_env = "STATION_BATCH_PASSPHRASE"
mnemonic_env = "STATION_BATCH_MNEMONIC"
[[fixture]]
slot = "N1"
kind = "network"
url = "{url}"
"""
    )


class FaultLog:
    """Collects the simulator's stderr: one JSON line per fault that fired (``station sim ppa``)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stderr is not None
        self._stream = process.stderr
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._stream:
            self.lines.append(line)

    def fired(self) -> bool:
        return any(line.startswith('{"fault"') for line in self.lines)


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def records(data: Path) -> list[dict[str, object]]:
    with sqlite3.connect(data / "records.sqlite3") as connection:
        rows = connection.execute("SELECT jws FROM records ORDER BY seq").fetchall()
        open_runs = connection.execute("SELECT COUNT(*) FROM runs WHERE state = 'open'").fetchone()[0]
    assert open_runs == 0, "a run was left open"
    from station.records.jws import peek

    return [peek(row[0])[1] for row in rows]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_kill_at_step_then_restart(workdir: Path, case: Case) -> None:
    data = workdir / "data"
    sim = spawn(
        "sim",
        "ppa",
        "--count",
        "1",
        "--data",
        str(data),
        "--fwv",
        "Encedo nGINE FW v1.2.2",
        "--faults",
        case.fault,
        cwd=workdir,
    )
    faults = FaultLog(sim)
    try:
        assert sim.stdout is not None
        url = json.loads(sim.stdout.readline())["http"]
        write_config(workdir, url)
        station = spawn("run", "--units", "1", cwd=workdir)
        # Kill only once the unit holds the station's request (the fault fired) and the step is visible:
        # killing earlier would leave the one-shot fault armed for the restarted station.
        wait_until(
            lambda: (faults.fired() and case.kill_when(data, url)) or station.poll() is not None,
            f"step {case.name}",
        )
        assert station.poll() is None, f"station ended before the kill: {station.communicate()}"
        station.kill()
        station.wait(TIMEOUT)

        again = spawn("run", "--units", "1", cwd=workdir)
        out, err = again.communicate(timeout=120)
        assert "Traceback" not in err, err
        assert again.returncode == (0 if case.outcome == "pass" else 1), out + err

        (record,) = records(data)  # exactly one record: nothing lost, nothing duplicated
        assert record["outcome"] == case.outcome, record["failure"]
        if case.code is not None:
            assert record["failure"]["code"] == case.code  # type: ignore[index]
        attestation = requests.get(url + "/api/system/config/attestation", timeout=TIMEOUT)
        if case.outcome == "pass":
            assert attestation.status_code == 401  # personalised: attestation needs a token now
            assert record["provisioning"]["refusal_status"] == 406  # type: ignore[index]
        verify = spawn("records", "verify", "--data", str(data), cwd=workdir)
        out, err = verify.communicate(timeout=60)
        assert verify.returncode == 0, out + err
    finally:
        sim.terminate()
        sim.wait(TIMEOUT)


@pytest.mark.slow
def test_killed_during_provisioning_then_the_unit_swapped_closes_the_run_with_the_issued_certificate(
    workdir: Path,
) -> None:
    """Killed while the unit held the provisioning reply; a new unit in the slot at the restart. The old
    run is closed ``aborted`` with the certificate its journal says was issued, marked not confirmed."""
    from station.core.config import KeysSection
    from station.factory.backend import LocalBackend
    from station.sim.ppa.device import SimulatedPpa
    from station.sim.ppa.faults import FaultRule

    data = workdir / "data"
    backend = LocalBackend.from_keys(KeysSection(), data, name="crash-st01")  # the keys the station loads
    unit = SimulatedPpa(backend_key=backend.checkin_public_key(), fwv="Encedo nGINE FW v1.2.3").start()
    try:
        unit.faults.add(FaultRule("stall", path="/api/system/config/provisioning", method="POST",
                                  seconds=HOLD, times=1))  # fmt: skip
        write_config(workdir, unit.http_url)
        station = spawn("run", "--units", "1", cwd=workdir)
        attestation = unit_shows(lambda a: "crt" in a, "/api/system/config/attestation")
        wait_until(
            lambda: (
                both(journal_has("provision", "intent"), attestation)(data, unit.http_url)
                or station.poll() is not None
            ),
            "the unit holding the provisioning reply",
        )
        assert station.poll() is None, f"station ended before the kill: {station.communicate()}"
        held = requests.get(unit.http_url + "/api/system/config/attestation", timeout=TIMEOUT).json()["crt"]
        station.kill()
        station.wait(TIMEOUT)
        unit.replug(new_unit=True)  # the operator took the unit away; a fresh one is in the slot

        again = spawn("run", "--units", "1", cwd=workdir)
        out, err = again.communicate(timeout=120)
        assert "Traceback" not in err, err
        closed, made = records(data)
    finally:
        unit.stop()

    assert closed["outcome"] == "aborted" and closed["failure"]["code"] == "unit-removed"  # type: ignore[index]
    provisioning = closed["provisioning"]
    assert isinstance(provisioning, dict)
    assert provisioning["confirmed"] is False  # issued, not confirmed: the station never read it back
    assert provisioning["crt"] == held  # ... and it is what the old unit took
    with sqlite3.connect(data / "records.sqlite3") as connection:
        (intent,) = connection.execute(
            "SELECT detail_json FROM journal WHERE step = 'provision' AND phase = 'intent' "
            "AND run_id = (SELECT run_id FROM runs WHERE record_id = ?)",
            (closed["record_id"],),
        ).fetchone()
    assert json.loads(intent)["crt_sha256"] == provisioning["crt_sha256"]
    assert closed["simulated"] is True and made["simulated"] is True  # the simulator said so, in its replies
    assert made["outcome"] == "pass" and made["unit"]["genuine_id"] != closed["unit"]["genuine_id"]  # type: ignore[index]
    verify = spawn("records", "verify", "--data", str(data), cwd=workdir)
    out, err = verify.communicate(timeout=60)
    assert verify.returncode == 0, out + err


def record_count(data: Path) -> int:
    db = data / "records.sqlite3"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM records").fetchone()[0])
    except sqlite3.OperationalError:  # the station is still creating its schema
        return 0


def test_killed_after_a_pass_then_restarted_over_the_unit_writes_no_false_fail(workdir: Path) -> None:
    """The unit stays in its slot across SIGKILLs: each restart shows it as passed and records nothing."""
    data = workdir / "data"
    sim = spawn("sim", "ppa", "--count", "1", "--data", str(data), cwd=workdir)
    try:
        assert sim.stdout is not None
        url = json.loads(sim.stdout.readline())["http"]
        write_config(workdir, url)
        station = spawn("run", "--units", "2", cwd=workdir)  # after the pass it waits for the unit's removal
        wait_until(lambda: record_count(data) == 1 or station.poll() is not None, "the unit's pass")
        assert station.poll() is None, f"station ended before the kill: {station.communicate()}"
        station.kill()
        station.wait(TIMEOUT)
        (passed,) = records(data)
        assert passed["outcome"] == "pass", passed["failure"]

        for stop in (signal.SIGKILL, signal.SIGTERM):  # killed while it shows the unit, then stopped
            again = spawn("run", "--units", "1", cwd=workdir)
            assert again.stdout is not None
            lines = [again.stdout.readline(), again.stdout.readline()]  # the unit's line, then why
            again.send_signal(stop)
            out, err = again.communicate(timeout=60)
            assert "Traceback" not in err, err
            devid = passed["unit"]["devid"]  # type: ignore[index]
            assert lines[0].split() == ["N1", "PASS", devid, "record", passed["record_id"]]
            assert "already passed" in lines[1] and "no new record" in lines[1], lines
            if stop == signal.SIGTERM:
                assert again.returncode == 0, "".join(lines) + out + err
                assert "units: 0" in out  # no verdict to count
            assert records(data) == [passed]  # and no record

        verify = spawn("records", "verify", "--data", str(data), cwd=workdir)
        out, err = verify.communicate(timeout=60)
        assert verify.returncode == 0, out + err
    finally:
        sim.terminate()
        sim.wait(TIMEOUT)
