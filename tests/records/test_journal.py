"""The run journal: durable lines before device writes, open runs found after a crash, closed with records."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from station.core.errors import RecordError
from station.records import RecordWriter, SqliteStore
from tests.records.factories import Ca, draft, random_unit

SECRET = "abandon ability able about above absent absorb abstract absurd abuse access accident"


def test_journal_round_trip_and_close_with_the_record(
    writer: RecordWriter, store: SqliteStore, ca: Ca
) -> None:
    run_id = store.begin_run("A1", "production")
    store.set_run_devid(run_id, "2023b758c209269a")
    first = store.journal(run_id, "provision", "intent", {"crt_sha256": "ab" * 32, "attempt": 1})
    second = store.journal(run_id, "provision", "done")
    assert (first.n, second.n) == (1, 2)
    (run,) = store.open_runs()
    assert (run.run_id, run.slot, run.mode, run.devid, run.state) == (
        run_id, "A1", "production", "2023b758c209269a", "open"
    )  # fmt: skip
    lines = store.run_journal(run_id)
    assert [(line.step, line.phase, line.detail) for line in lines] == [
        ("provision", "intent", {"attempt": 1, "crt_sha256": "ab" * 32}),
        ("provision", "done", {}),
    ]
    stored = writer.append(draft(ca), run_id=run_id)
    closed = store.get_run(run_id)
    assert closed is not None and (closed.state, closed.record_id) == ("closed", stored.record_id)
    assert store.open_runs() == []


def test_closed_and_unknown_runs_refuse_more(store: SqliteStore, writer: RecordWriter, ca: Ca) -> None:
    run_id = store.begin_run("A1", "production")
    store.close_run(run_id, None)
    with pytest.raises(RecordError, match=f"run {run_id} is already closed"):
        store.journal(run_id, "identify", "intent")
    with pytest.raises(RecordError, match="already closed"):
        store.close_run(run_id, None)
    with pytest.raises(RecordError, match="already closed"):
        writer.append(draft(ca), run_id=run_id)
    assert list(store.records()) == []  # the record and the run close are one transaction
    with pytest.raises(RecordError, match="run nope is unknown"):
        store.journal("nope", "identify", "intent")
    with pytest.raises(RecordError, match="already exists"):
        store.begin_run("A1", "production", run_id=run_id)
    with pytest.raises(RecordError, match="run mode 'party'"):
        store.begin_run("A1", "party")


def test_journal_refuses_secret_named_details(store: SqliteStore) -> None:
    run_id = store.begin_run("A1", "production")
    with pytest.raises(RecordError, match=r"journal detail\.mnemonic") as caught:
        store.journal(run_id, "personalize", "intent", {"mnemonic": SECRET})
    assert SECRET not in str(caught.value)
    assert store.run_journal(run_id) == []
    assert SECRET.encode() not in b"".join(path.read_bytes() for path in store.path.parent.iterdir())


def test_open_run_survives_a_killed_process(store_path: Path) -> None:
    """A station killed right after writing its intent leaves that intent on disk, and the run open."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from station.records import SqliteStore
        store = SqliteStore({str(store_path)!r})
        run_id = store.begin_run("B2", "production", devid="2023b758c209269a")
        store.journal(run_id, "provision", "intent", {{"crt_sha256": "cd" * 32}})
        print(run_id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == -9, result.stderr
    run_id = result.stdout.strip()
    store = SqliteStore(store_path)
    (run,) = store.open_runs()
    assert (run.run_id, run.slot, run.devid) == (run_id, "B2", "2023b758c209269a")
    (line,) = store.run_journal(run_id)
    assert (line.step, line.phase, line.detail) == ("provision", "intent", {"crt_sha256": "cd" * 32})


def test_the_records_of_an_eid_are_those_whose_unit_names_it(
    writer: RecordWriter, store: SqliteStore, ca: Ca
) -> None:
    """The already-passed check finds a personalised unit's records by the ``eid`` it shows (no column)."""
    eid = "x" * 43 + "="
    stored = writer.append(draft(ca, unit=replace(random_unit(), eid=eid)))
    # another unit whose personalisation names the eid deeper down: not its instance
    writer.append(
        draft(
            ca, unit=replace(random_unit(), eid="y" * 43 + "="), personalization={"profile": "p", "eid": eid}
        )
    )
    store.begin_run("A3", "production")  # a run without a record names nothing

    assert [record.record_id for record in store.records_of_instance(eid)] == [stored.record_id]
    assert store.records_of_instance("z" * 43 + "=") == []
