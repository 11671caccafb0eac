"""The station audit log: signed, chained entries saying who logged in, was refused, or changed something.

>>> check_entry_fields("label-reprint", "ok", {"devid": "2023b758c209269a"})
>>> check_entry_fields("login", "ok", {"pin": "482913"})   # the log holds public values only
Traceback (most recent call last):
ValueError: detail.pin names a secret; the audit log holds public values only
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from station.core.errors import RecordError
from station.core.operator import Operator
from station.records import jws
from station.records.head import AUDIT, ChainHead, HeadFile, HeadKeeper, head_path
from station.records.model import GENESIS_PREV, chain_hash, plain
from station.records.store.sqlite import SqliteStore
from station.records.validate import SECRET_WORDS

AUDIT_SCHEMA = "ppa-station/audit/1"
AUDIT_ACTIONS = (
    "login",
    "login-failed",
    "logout",
    "mode-change",
    "permission-refused",
    "user-add",
    "user-disable",
    "user-enable",
    "user-pin-change",
    "key-operation",
    "config-change",
    "label-reprint",
)
AUDIT_OUTCOMES = ("ok", "refused", "failed")
_SECRET_NAMES = {"pin", "pins", "secret", "secrets"}  # whole words; SECRET_WORDS anywhere in a key
_WORD = re.compile(r"[a-z]+")
_INSERT = (
    "INSERT INTO audit_log (seq, at, actor_id, actor_role, action, outcome, jws) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_FROM = (
    "SELECT seq, at, actor_id, actor_role, action, outcome, jws FROM audit_log WHERE seq > ? ORDER BY seq"
)


@dataclass(frozen=True)
class AuditEntry:
    """One row of ``audit_log``: the columns and the signed text; ``detail`` is decoded, not verified."""

    seq: int
    time: str
    actor_id: str | None
    actor_role: str | None
    action: str
    outcome: str
    jws: str = field(repr=False)
    detail: Mapping[str, Any] = field(default_factory=dict)


class AuditLog:
    """Appends signed, chained entries to the station's ``audit_log`` table."""

    def __init__(self, store: SqliteStore, key: jws.Signer) -> None:
        self.store = store
        self._key = key
        self.key_id = jws.key_id(key.public_key())
        head_file = HeadFile(head_path(store.path, AUDIT), AUDIT)
        self.head = HeadKeeper(
            head_file, AUDIT, key, self.key_id, entries="audit entries", command="station audit verify"
        )
        with store.write() as connection:  # a missing or lagging head file is written now, and logged
            last = connection.execute("SELECT seq, jws FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
            newest = None if last is None else ChainHead(int(last[0]), chain_hash(last[1]))
            self._anchor(connection, newest, opening=True)

    def __repr__(self) -> str:
        return f"AuditLog({self.store!r}, key {self.key_id})"

    def append(
        self,
        actor: Operator | None,
        action: str,
        *,
        detail: Mapping[str, Any] | None = None,
        outcome: str = "ok",
    ) -> AuditEntry:
        """Sign and store one entry in its own durable transaction."""
        with self.store.write() as connection:
            return self.append_in(connection, actor, action, detail=detail, outcome=outcome)

    def append_in(
        self,
        connection: sqlite3.Connection,
        actor: Operator | None,
        action: str,
        *,
        detail: Mapping[str, Any] | None = None,
        outcome: str = "ok",
    ) -> AuditEntry:
        """Sign and store one entry inside the caller's write transaction (the change it records too)."""
        payload = self._payload(connection, actor, action, dict(detail or {}), outcome)
        text = jws.sign(payload, self._key, self.key_id)
        entry = _entry(payload, text)
        connection.execute(
            _INSERT,
            (entry.seq, entry.time, entry.actor_id, entry.actor_role, entry.action, entry.outcome, text),
        )
        self._anchor(connection, ChainHead(entry.seq, chain_hash(text)))
        return entry

    def _anchor(
        self, connection: sqlite3.Connection, newest: ChainHead | None, *, opening: bool = False
    ) -> None:
        """Have the audit head file name ``newest`` once the caller's transaction commits (never before)."""

        def sha256_at(seq: int) -> str | None:
            row = connection.execute("SELECT jws FROM audit_log WHERE seq = ?", (seq,)).fetchone()
            return None if row is None else chain_hash(row[0])

        write = self.head.prepare(newest, sha256_at, opening=opening)
        if write is not None:
            self.store.after_commit(connection, write)

    def _payload(
        self,
        connection: sqlite3.Connection,
        actor: Operator | None,
        action: str,
        detail: dict[str, Any],
        outcome: str,
    ) -> dict[str, Any]:
        check_entry_fields(action, outcome, detail)
        last = connection.execute("SELECT seq, jws FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        return {
            "schema": AUDIT_SCHEMA,
            "seq": 1 if last is None else int(last[0]) + 1,
            "prev": GENESIS_PREV if last is None else chain_hash(last[1]),
            "time": self.store.now(),
            "actor": {
                "id": None if actor is None else actor.id,
                "role": None if actor is None else actor.role,
            },
            "action": action,
            "detail": plain(detail, "detail"),
            "outcome": outcome,
        }


def check_entry_fields(action: str, outcome: str, detail: Mapping[str, Any]) -> None:
    """Refuse an unknown action or outcome, and any detail key that names a secret (a bug upstream)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; one of {', '.join(AUDIT_ACTIONS)}")
    if outcome not in AUDIT_OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}; one of {', '.join(AUDIT_OUTCOMES)}")
    _refuse_secret_keys(detail, "detail")


def _refuse_secret_keys(value: Any, path: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if _names_secret(str(key)):
                raise ValueError(f"{path}.{key} names a secret; the audit log holds public values only")
            _refuse_secret_keys(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _refuse_secret_keys(item, f"{path}[{index}]")


def _names_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_WORDS) or bool(set(_WORD.findall(lowered)) & _SECRET_NAMES)


def read_audit(store: SqliteStore, *, last: int | None = None) -> list[AuditEntry]:
    """The log in seq order (only the ``last`` entries if given); payloads decoded, not verified."""
    with store.connect() as connection:
        (top,) = connection.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_log").fetchone()
        rows = connection.execute(_SELECT_FROM, (0 if last is None else max(int(top) - last, 0),)).fetchall()
    return [_row_entry(row) for row in rows]


def _row_entry(row: tuple[Any, ...]) -> AuditEntry:
    seq, at, actor_id, actor_role, action, outcome, text = row
    try:
        detail = jws.peek(text)[1].get("detail")
    except RecordError:  # a damaged entry still shows its columns; verify_audit says what is wrong
        detail = None
    detail = detail if isinstance(detail, dict) else {}
    return AuditEntry(seq, at, actor_id, actor_role, action, outcome, text, detail)


def _entry(payload: Mapping[str, Any], text: str) -> AuditEntry:
    actor = payload["actor"]
    return AuditEntry(
        seq=payload["seq"],
        time=payload["time"],
        actor_id=actor["id"],
        actor_role=actor["role"],
        action=payload["action"],
        outcome=payload["outcome"],
        jws=text,
        detail=payload["detail"],
    )
