"""The public payload fields the dashboard counts by, read once per record (records never change).

>>> facts = Facts.of({"failure": {"step": "provision", "code": "HTTP 406", "message": "refused"},
...                  "personalization": {"profile": "bank"}, "operator": {"id": "B0042"}})
>>> facts.fail_step, facts.fail_code, facts.profile, facts.operator_id
('provision', 'HTTP 406', 'bank', 'B0042')
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from station.core.errors import RecordError
from station.records.jws import peek

CACHE_SIZE = 200_000  # about 40 MB: a week of a busy line, decoded once


@dataclass(frozen=True)
class Facts:
    """What the line database's generated columns hold (migration 0005); None where a record has none."""

    fail_step: str | None = None
    fail_code: str | None = None
    fail_message: str | None = None
    profile: str | None = None
    operator_id: str | None = None

    @classmethod
    def of(cls, payload: Mapping[str, Any]) -> Facts:
        failure = _block(payload, "failure")
        return cls(
            fail_step=_text(failure, "step"),
            fail_code=_text(failure, "code"),
            fail_message=_text(failure, "message", 300),
            profile=_text(_block(payload, "personalization"), "profile", 120),
            operator_id=_text(_block(payload, "operator"), "id", 80),
        )


class FactsCache:
    """Facts by record id, decoded from the JWS on first sight (a bounded LRU; thread-safe)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._facts: OrderedDict[str, Facts] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, record_id: str, jws: str) -> Facts:
        with self._lock:
            found = self._facts.get(record_id)
            if found is not None:
                self._facts.move_to_end(record_id)
                return found
        try:
            facts = Facts.of(peek(jws)[1])
        except RecordError:
            facts = Facts()  # a damaged record counts, with no reason (`records verify` says why)
        with self._lock:
            self._facts[record_id] = facts
            while len(self._facts) > self._size:
                self._facts.popitem(last=False)
        return facts


def _block(payload: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = payload.get(name)
    return value if isinstance(value, Mapping) else {}


def _text(block: Mapping[str, Any], name: str, limit: int = 200) -> str | None:
    value = block.get(name)
    return value[:limit] if isinstance(value, str) else None
