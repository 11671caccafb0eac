"""Records as people read them: the ``records verify`` summary and one record with its checks.

>>> from station.records.check.chain import VerifyReport
>>> print(format_report(VerifyReport(checked=3, stations={"st01": 3}, problems=()), with_ca=True))
checked 3 records (signatures, chains, schema, certificates (CA checked)); stations: st01 seq 1-3
OK: every record verifies
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from station.core.text import printable

if TYPE_CHECKING:
    from station.records.check.chain import VerifyReport
    from station.records.entries import StoredRecord
    from station.records.view import RecordView

_MORE_PROBLEMS_SHOWN = 10
_LINE_LIMIT = 2000  # characters of one printed line: a failure message and a certificate subject fit


def format_report(report: VerifyReport, *, with_ca: bool) -> str:
    """The verify summary: what was checked, then OK or the first bad record and a few more."""
    chains = ", ".join(f"{station} seq 1-{last}" for station, last in report.stations.items()) or "none"
    scope = "signatures, chains, schema, certificates" + (" (CA checked)" if with_ca else " (no CA given)")
    lines = [f"checked {report.checked} records ({scope}); stations: {chains}"]
    if report.first is None:
        lines.append("OK: every record verifies")
        return "\n".join(lines)
    lines.append(f"FAILED: first bad record: {report.first}")
    for problem in report.problems[1 : 1 + _MORE_PROBLEMS_SHOWN]:
        lines.append(f"  also: {problem}")
    hidden = len(report.problems) - 1 - _MORE_PROBLEMS_SHOWN
    if hidden > 0:
        lines.append(f"  ... and {hidden} more")
    return _joined(lines)


def _superseded(view: RecordView) -> list[str]:
    if view.superseded_by is None:
        return []
    return [f"  superseded by {view.superseded_by} (this record is kept as history)"]


def format_history_head(unit: str, count: int, current: StoredRecord | None) -> str:
    """The line above a unit's records (newest first): how many, and which one is current."""
    now = (
        f"current record {current.record_id} (its newest passing production or RMA record)"
        if current is not None
        else "no current record (no passing production or RMA record)"
    )
    return _joined([f"unit {unit}: {count} record(s), newest first; {now}"])


def format_view(view: RecordView, *, current: bool = False) -> str:
    """A record as a person reads it: identity, unit, steps with times, failure, certificate, checks.

    ``current`` marks the unit's current record (what it was last made into) in a list of its records.
    """
    lines = [
        f"record {view.record_id} (station {view.station}, seq {view.seq}){'  [CURRENT]' if current else ''}",
        f"  mode {view.mode}, outcome {view.outcome.upper()}{', simulated unit' if view.simulated else ''}",
        *_superseded(view),
        f"  started {view.started}, finished {view.finished}",
        f"  fixture {view.fixture.get('slot')} (port {view.fixture.get('port') or '-'}), "
        f"operator {view.operator.get('id')} ({view.operator.get('role')})",
        "unit",
        *(f"  {name:<12} {value}" for name, value in view.unit.items() if value is not None),
        "steps",
        *(
            f"  {step.name:<16} {step.outcome:<8} {step.attempts} attempt(s)  "
            f"{'?' if step.seconds is None else f'{step.seconds:.3f} s':>10}  from {step.started}"
            for step in view.steps
        ),
    ]
    if view.failure is not None:
        failure = view.failure
        lines += [
            "failure",
            f"  step {failure.get('step')}, code {failure.get('code')}: {failure.get('message')}",
        ]
    if view.certificate is not None:
        cert = view.certificate
        confirmed = (
            "" if view.certificate_confirmed else " (issued, not confirmed: never read back from the unit)"
        )
        lines += [f"certificate{confirmed}", f"  subject {cert.subject}", f"  issuer  {cert.issuer}",
                  f"  serial  {cert.serial}", f"  valid   {cert.not_before} to {cert.not_after}"]  # fmt: skip
    if view.personalization is not None:
        lines += [
            "personalization",
            *(f"  {name:<18} {value}" for name, value in view.personalization.items()),
        ]
        if view.sealed_secrets:
            lines.append(f"  sealed secrets     {', '.join(view.sealed_secrets)} (sealed to the escrow key)")
    links = {name: value for name, value in view.links.items() if value}
    if links:
        lines += ["links", *(f"  {name:<12} {value}" for name, value in links.items())]
    checks = view.checks
    lines += ["verification", f"  signature    {checks.signature}", f"  chain        {checks.chain}",
              f"  certificate  {checks.certificate}", f"  line db      {view.line}"]  # fmt: skip
    return _joined(lines)


def _joined(lines: list[str]) -> str:
    """The lines, each escaped (``printable``) before they are joined: a value read from a record (a
    unit's ``hwv``, a failure message) can neither add a line nor run an escape code on a terminal."""
    return "\n".join(printable(line, _LINE_LIMIT) for line in lines)
