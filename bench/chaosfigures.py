"""The chaos run's figures, from the station's records database and the simulator's ledger.

Example::

    figures = chaos_figures(data_dir, ledger, slot_index={"X1": 0, "X2": 1}, keys=KeysSection())
    print(figures.table())
    figures.must_be_zero_failed()     # the names of must-be-0 figures that are not 0

What is counted, and from where:

- records failing verification: ``verify_store`` (what ``station records verify`` runs: signatures,
  schema, certificates against the factory CA, stored columns, the unit registry), problems other than
  the chain's own;
- chain breaks: walking the records in ``seq`` order, a ``seq`` that does not follow or a ``prev`` that
  is not the SHA-256 of the record before (checked here, and by ``verify_store`` as a cross-check);
- units provisioned twice: the simulator answered a second provisioning POST with 200, or the records
  hold two different certificates or two passing production records for one unit;
- units with exactly one final verdict: of the units the station made records about or wrote to
  irreversibly (a certificate in the secure element, or personalised), those with exactly one record.
  The others are broken down: none (a lost verdict: must be 0), two passes or a verdict after a pass
  (must be 0), refused as not factory-fresh after their verdict, or run again after a failed run. The
  last two happen when the station restarts while a unit it has finished with is still in its slot:
  it cannot tell that unit from a new one, and gives it a new run.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.chaosledger import Ledger, SimUnit
from station.app.data import StationData
from station.core.config import KeysSection
from station.records.check.chain import Problem
from station.records.check.store import verify_store
from station.records.jws import peek
from station.records.model import GENESIS_PREV, chain_hash
from station.records.store.sqlite import DEFAULT_FILENAME

CHAIN_REASONS = ("seq ", "prev ", "first record's prev")
REFUSALS = {"already-personalised", "already-provisioned", "foreign-certificate"}  # not factory-fresh
RESTART_NOTE = "still in its slot when the station restarted"
KIND_ORDER = ("none", "passed twice", "contradicted", "refused again", "run again", "one")  # worst first
MUST_NOT = ("none", "passed twice", "contradicted")
NEVER_STORED_NOTE = "certificates read back from the unit only (not the ones marked not confirmed)"


@dataclass
class Row:
    name: str
    value: int
    expected: str  # "0", or "= N" for a count that must match another
    ok: bool
    note: str = ""


@dataclass
class ChaosFigures:
    rows: list[Row] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    failure_codes: Counter[str] = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)  # what a non-zero must-be-0 figure is made of
    notes: list[str] = field(default_factory=list)  # what an informational figure is made of

    def add(self, name: str, value: int, expected: int | None = 0, note: str = "") -> None:
        ok = expected is None or value == expected
        shown = "-" if expected is None else ("0" if expected == 0 else f"= {expected}")
        self.rows.append(Row(name, value, shown, ok, note))

    def must_be_zero_failed(self) -> list[str]:
        return [row.name for row in self.rows if not row.ok]

    def table(self) -> str:
        width = max(len(row.name) for row in self.rows)
        lines = [f"  {'figure':<{width}}  {'value':>6}  {'must be':<8}  "]
        for row in self.rows:
            verdict = "" if row.expected == "-" else ("ok" if row.ok else "FAILED")
            note = f"  ({row.note})" if row.note else ""
            lines.append(f"  {row.name:<{width}}  {row.value:>6}  {row.expected:<8}  {verdict}{note}")
        return "\n".join(lines)


def chaos_figures(
    data_dir: Path, ledger: Ledger, slot_index: Mapping[str, int], keys: KeysSection
) -> ChaosFigures:
    figures = ChaosFigures()
    rows = _records(data_dir / DEFAULT_FILENAME)
    payloads = [peek(jws)[1] for _, jws in rows]
    for payload in payloads:
        figures.outcomes[payload["outcome"]] += 1
        if payload.get("failure"):
            figures.failure_codes[payload["failure"]["code"]] += 1
    verdicts = _verdicts_per_unit(payloads, ledger, slot_index)
    _verdict_rows(figures, ledger, verdicts)
    _provisioning_rows(figures, ledger, verdicts)
    _integrity_rows(figures, data_dir, keys, rows)
    figures.add("runs left open in the journal", _open_runs(data_dir / DEFAULT_FILENAME))
    return figures


def _records(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return [
            (int(seq), jws) for seq, jws in connection.execute("SELECT seq, jws FROM records ORDER BY seq")
        ]


def _open_runs(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM runs WHERE state = 'open'").fetchone()[0])


def _verdicts_per_unit(
    payloads: list[dict[str, Any]], ledger: Ledger, slot_index: Mapping[str, int]
) -> dict[str | None, list[dict[str, Any]]]:
    """Records by the devid of the unit they are about (None: no unit found for them)."""
    verdicts: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for payload in payloads:
        unit = ledger.attribute(payload, slot_index)
        verdicts[unit.devid if unit is not None else None].append(payload)
    return verdicts


def _verdict_rows(
    figures: ChaosFigures, ledger: Ledger, verdicts: Mapping[str | None, list[dict[str, Any]]]
) -> None:
    changed = {devid for devid, unit in ledger.units.items() if unit.provisioned or unit.personalised}
    judged = {devid for devid in changed | set(verdicts) if devid is not None}
    kinds = Counter(_kind(verdicts.get(devid, [])) for devid in judged)
    figures.add("units the station wrote to or recorded", len(judged), None, "simulator ledger + records")
    figures.add("units with exactly one final verdict", kinds["one"], None, "one record each")
    figures.add("units written to, without a verdict", kinds["none"])
    figures.add("units with two passing records", kinds["passed twice"])
    figures.add("units with a verdict after their pass", kinds["contradicted"], 0, "other than a refusal")
    figures.add("units refused again after a verdict", kinds["refused again"], None, RESTART_NOTE)
    figures.add("units run again after a failed run", kinds["run again"], None, RESTART_NOTE)
    figures.add("records not attributable to a unit", len(verdicts.get(None, ())))
    unseen = [u for u in ledger.units.values() if u.touched and u.devid not in judged]
    figures.add("units only read, then swapped away", len(unseen), None, "no identity known yet")
    for devid in sorted(judged, key=lambda devid: KIND_ORDER.index(_kind(verdicts.get(devid, [])))):
        payloads, kind = verdicts.get(devid, []), _kind(verdicts.get(devid, []))
        if kind == "none" and devid in ledger.units:
            figures.details.append(f"no verdict: unit {_describe(ledger.units[devid])}")
        elif kind != "one":
            text = f"{kind}: unit {devid}: {', '.join(_verdict_text(p) for p in payloads)}"
            (figures.details if kind in MUST_NOT else figures.notes).append(text)


def _kind(payloads: list[dict[str, Any]]) -> str:
    """How a unit's records (in chain order) read: one, none, or which kind of more than one."""
    if len(payloads) <= 1:
        return "one" if payloads else "none"
    outcomes = [p["outcome"] for p in payloads]
    if outcomes.count("pass") > 1:
        return "passed twice"
    if "pass" not in outcomes[:-1]:
        return "run again"  # failed runs, then the last one (of any outcome): a retry of the unit
    after_pass = payloads[outcomes.index("pass") + 1 :]
    if all(_failure_code(p) in REFUSALS for p in after_pass):
        return "refused again"
    return "contradicted"


def _failure_code(payload: Mapping[str, Any]) -> str | None:
    failure = payload.get("failure")
    return failure["code"] if failure else None


def _provisioning_rows(
    figures: ChaosFigures, ledger: Ledger, verdicts: Mapping[str | None, list[dict[str, Any]]]
) -> None:
    twice = {devid for devid, count in ledger.successful_provisionings.items() if count > 1}
    twice |= {d for d, ps in verdicts.items() if d and sum(p["outcome"] == "pass" for p in ps) > 1}
    figures.add("units provisioned twice", len(twice), 0, "a 2nd provisioning POST answered 200, or 2 passes")
    false_passes = [
        devid
        for devid, payloads in verdicts.items()
        for p in payloads
        if p["outcome"] == "pass" and not _sim_confirms(ledger.units.get(devid or ""), p)
    ]
    figures.add("passes the simulator contradicts", len(false_passes))
    provisioned = [u for u in ledger.units.values() if u.provisioned]
    carried = {_crt(p) for ps in verdicts.values() for p in ps} - {None}
    missing = [u for u in provisioned if u.crt_sha256 not in carried]
    figures.add("units provisioned (simulator)", len(provisioned), None)
    figures.add("  no record carries the certificate", len(missing), None, "a record may say: not confirmed")
    stray = sorted(
        devid
        for devid, payloads in verdicts.items()
        if devid in ledger.units
        and any(_crt(p, confirmed=True) not in (None, ledger.units[devid].crt_sha256) for p in payloads)
    )
    figures.add("  records with a certificate never stored", len(stray), None, NEVER_STORED_NOTE)
    for devid in sorted(twice):
        figures.details.append(f"provisioned twice: {devid} ({ledger.successful_provisionings[devid]} x 200)")
    figures.details.extend(f"pass not confirmed by the simulator: {devid}" for devid in false_passes)
    for devid in stray:
        outcomes = ", ".join(_verdict_text(p) for p in verdicts[devid])
        figures.notes.append(f"a certificate unit {devid} never stored: {outcomes}")


def _crt(payload: Mapping[str, Any], *, confirmed: bool = False) -> str | None:
    """The record's certificate digest; with ``confirmed``, only one read back from the unit."""
    provisioning = payload.get("provisioning")
    if not provisioning or (confirmed and provisioning.get("confirmed") is False):
        return None
    return str(provisioning["crt_sha256"])


def _sim_confirms(unit: SimUnit | None, payload: Mapping[str, Any]) -> bool:
    """A pass is real when the unit holds the recorded certificate and is personalised."""
    provisioning = payload.get("provisioning") or {}
    return unit is not None and unit.personalised and unit.crt_sha256 == provisioning.get("crt_sha256")


def _integrity_rows(
    figures: ChaosFigures, data_dir: Path, keys: KeysSection, rows: list[tuple[int, str]]
) -> None:
    data = StationData(data_dir, keys, create=True)
    report = verify_store(data.store(), data.trusted_keys(), data.ca_certificate())
    chain = [p for p in report.problems if _is_chain(p)]
    other = [p for p in report.problems if not _is_chain(p)]
    breaks = _chain_breaks(rows)
    figures.add("records", report.checked, None, f"{len(rows)} rows")
    figures.add("records failing verification", len(other))
    figures.add("chain breaks", breaks, 0, f"records verify reports {len(chain)}")
    figures.details.extend(f"verify: {problem}" for problem in report.problems[:10])


def _is_chain(problem: Problem) -> bool:
    return problem.reason.startswith(CHAIN_REASONS)


def _chain_breaks(rows: list[tuple[int, str]]) -> int:
    """Links where ``seq`` does not follow or ``prev`` is not the hash of the record before."""
    breaks, expected_seq, expected_prev = 0, 1, GENESIS_PREV
    for seq, jws in rows:
        if seq != expected_seq or peek(jws)[1].get("prev") != expected_prev:
            breaks += 1
        expected_seq, expected_prev = seq + 1, chain_hash(jws)
    return breaks


def _describe(unit: SimUnit) -> str:
    state = [
        "certificate" if unit.provisioned else "no certificate",
        "personalised" if unit.personalised else "not personalised",
    ]
    return f"{unit.devid} (slot {unit.slot}, genuine {unit.genuine_id}, {', '.join(state)})"


def _verdict_text(payload: Mapping[str, Any]) -> str:
    failure = payload.get("failure")
    return str(payload["outcome"]) + (f" {failure['step']}/{failure['code']}" if failure else "")
