"""``validate_payload``'s quick roads give the verdicts of the roads that name each problem.

A step that is a plain dict of plain, valid values is accepted by ``_plain_step`` without the calls
that build error paths; everything else takes the naming road. Here every payload is validated both
ways (the quick road switched off by monkeypatching) over a corpus: valid records of each kind, and
each step field deleted or replaced by every kind of wrong value the other tests use.
"""

from __future__ import annotations

import copy
import uuid
from collections import OrderedDict
from typing import Any

import pytest

from station.core.errors import RecordError
from station.records import validate
from station.records.model import StationInfo, build_payload
from station.records.validate import SECRET_WORDS, validate_payload
from tests.records.factories import CONFIG_SHA256, Ca, draft

STATION = StationInfo("st1", "ppa-station test", CONFIG_SHA256, "0123456789abcdef")
DELETED = object()
STEP_FIELDS = ("name", "outcome", "started", "finished", "attempts", "detail")
WRONG: tuple[Any, ...] = (
    None, "", "x", 0, -1, 1, True, False, 1.5, [], {}, ["pass"], {"a": 1},
    "2025-03-04 10:00:00", "2025-13-01T00:00:00Z", "2025-02-30T10:00:00Z", "2025-03-04T24:00:00.000Z",
    "2025-03-04T10:00:00.000Z", "skipped", "pass", "PASS",
)  # fmt: skip


class _Dict(dict[str, Any]):
    """A dict subclass: the quick road leaves it to the naming road."""


class _Text(str):
    """A str subclass: likewise."""


def _build(record: Any) -> dict[str, Any]:
    return build_payload(record, station=STATION, seq=1, prev="0" * 64, record_id=str(uuid.uuid4()))


def _payloads(ca: Ca) -> list[dict[str, Any]]:
    """Valid payloads, then each step field of each deleted, replaced by every wrong value, or wrapped."""
    valid = [_build(draft(ca)), _build(draft(None, outcome="fail"))]
    corpus = [copy.deepcopy(payload) for payload in valid]
    for payload in valid:
        for index in range(len(payload["steps"])):
            for name in STEP_FIELDS:
                variants: list[Any] = [*WRONG, _Text("pass"), _Text("2025-03-04T10:00:00.000Z")]
                for value in (*variants, DELETED):
                    changed = copy.deepcopy(payload)
                    step = changed["steps"][index]
                    if value is DELETED:
                        del step[name]
                    else:
                        step[name] = value
                    corpus.append(changed)
            wrappers: tuple[Any, ...] = (_Dict(payload["steps"][index]), OrderedDict(payload["steps"][index]))
            for wrapped in (*wrappers, [], "step"):
                changed = copy.deepcopy(payload)
                changed["steps"][index] = wrapped
                corpus.append(changed)
        wrong_steps: tuple[Any, ...] = ([], (), None, {}, "steps")
        for steps in wrong_steps:
            corpus.append({**copy.deepcopy(payload), "steps": steps})
    return corpus


def _verdict(payload: dict[str, Any]) -> str | None:
    try:
        validate_payload(payload)
    except RecordError as exc:
        return str(exc)
    return None


def test_the_quick_step_road_gives_the_naming_roads_verdicts(ca: Ca, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = _payloads(ca)
    quick = [_verdict(payload) for payload in corpus]
    monkeypatch.setattr(validate, "_plain_step", lambda step: False)
    named = [_verdict(payload) for payload in corpus]
    assert quick == named
    assert quick[0] is None and quick[1] is None  # the valid records pass both ways
    assert sum(verdict is not None for verdict in quick) > 0.8 * len(corpus)  # the rest mostly fail


def test_the_quick_step_road_takes_every_valid_step(ca: Ca) -> None:
    payload = _build(draft(ca))
    assert payload["steps"] and all(validate._plain_step(step) for step in payload["steps"])


@pytest.mark.parametrize("word", SECRET_WORDS)
def test_each_secret_word_is_found_in_canonical_bytes(word: str) -> None:
    for spelled in (word, word.upper(), word.title(), f"x_{word}_y"):
        assert validate._names_a_secret_word(f'{{"{spelled}":1}}'.lower().encode("ascii"))
    assert not validate._names_a_secret_word(b'{"profile":"default","outcome":"pass"}')
