"""A chain's head kept outside its database: a signed file beside the store, so a deleted tail shows.

>>> check_head(ChainHead(7, "ab" * 32), last=ChainHead(5, "cd" * 32), sha256_at=lambda seq: None).problem
'the newest 2 records are missing: the head file says seq 7, the store ends at seq 5'
>>> check_head(ChainHead(4, "ab" * 32), last=ChainHead(5, "cd" * 32), sha256_at=lambda seq: "ab" * 32).note
'the head file anchors seq 4, one behind the newest record (seq 5): the station stopped between ...'
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.core.errors import RecordError
from station.records import jws

log = logging.getLogger(__name__)

HEAD_SCHEMA = "ppa-station/head/1"
RECORDS = "records"
AUDIT = "audit"
_HEX = frozenset("0123456789abcdef")


def head_path(store_path: Path, log_name: str) -> Path:
    """Where a store's head file is: ``records.head``, ``records.audit-head`` beside ``records.sqlite3``.

    Named after the store file, so a copy of a store (``--store copy.sqlite3``) pairs with its own head.
    """
    suffix = "head" if log_name == RECORDS else f"{log_name}-head"
    return store_path.with_name(f"{store_path.stem}.{suffix}")


@dataclass(frozen=True)
class ChainHead:
    """How far a chain reached: its newest seq and the SHA-256 (hex) of that entry's JWS text."""

    seq: int
    sha256: str


@dataclass(frozen=True)
class SignedHead:
    """A head file as read: which log it anchors, the key that signed it, each chain's head."""

    log: str
    kid: str
    chains: Mapping[str, ChainHead]
    text: str


@dataclass(frozen=True)
class HeadCheck:
    """A head compared with its store: a ``problem`` (rows missing or changed) or a ``note`` (head behind)."""

    problem: str | None = None
    note: str | None = None


class HeadFile:
    """The head file of one log (``records`` or ``audit``) of a store: each chain's newest seq and hash.

    Deleting the newest rows of a chain leaves a chain that verifies (every link left is intact); the
    head, signed with the station's record key and kept outside the database, says how far it reached.
    Order: the row is committed first, the head file written after it (temporary file, fsync, rename,
    fsync of the folder). A crash between the two leaves the head one entry behind the store, never
    ahead: a store that ends before its head lost rows. A head the store contradicts is evidence and is
    never overwritten (``HeadKeeper``); ``records verify`` and ``audit verify`` report it.
    """

    def __init__(self, path: Path, log_name: str) -> None:
        self.path = path
        self.log = log_name

    def __repr__(self) -> str:
        return f"HeadFile({str(self.path)!r}, {self.log!r})"

    def read(self) -> SignedHead | None:
        """The file's content, signature not checked (None if there is no file); RecordError if unreadable."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise RecordError(f"head file {self.path} is unreadable: {exc}") from None
        try:
            header, payload = jws.peek(text)
        except RecordError as exc:
            raise RecordError(f"head file {self.path} is not a signed head: {exc}") from None
        return SignedHead(self.log, str(header["kid"]), self._chains(payload), text)

    def verified(self, trusted_keys: Mapping[str, Ed25519PublicKey]) -> SignedHead | None:
        """The file's content once its signature verifies with a trusted key; RecordError otherwise."""
        head = self.read()
        if head is None:
            return None
        key = trusted_keys.get(head.kid)
        if key is None:
            raise RecordError(f"head file {self.path} is signed by key {head.kid}, which is not trusted")
        try:
            jws.verify(head.text, key)
        except RecordError as exc:
            raise RecordError(f"head file {self.path}: {exc}") from None
        return head

    def write(self, chains: Mapping[str, ChainHead], key: jws.Signer, key_id: str) -> None:
        """Replace the file atomically: a temporary file, fsync, rename, fsync of the folder."""
        payload = {
            "schema": HEAD_SCHEMA,
            "log": self.log,
            "chains": {
                name: {"seq": head.seq, "sha256": head.sha256} for name, head in sorted(chains.items())
            },
        }
        text = jws.sign(payload, key, key_id) + "\n"
        descriptor, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            Path(temporary).replace(self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def _chains(self, payload: Mapping[str, Any]) -> dict[str, ChainHead]:
        if payload.get("schema") != HEAD_SCHEMA:
            raise RecordError(f"head file {self.path}: schema is not {HEAD_SCHEMA!r}")
        if payload.get("log") != self.log:
            raise RecordError(
                f"head file {self.path} anchors the {payload.get('log')!r} log, not {self.log!r}"
            )
        chains = payload.get("chains")
        if not isinstance(chains, dict) or set(payload) != {"schema", "log", "chains"}:
            raise RecordError(f"head file {self.path}: expected fields schema, log, chains")
        return {str(name): _chain_head(self.path, name, value) for name, value in chains.items()}


def _chain_head(path: Path, name: str, value: Any) -> ChainHead:
    seq = value.get("seq") if isinstance(value, dict) else None
    digest = value.get("sha256") if isinstance(value, dict) else None
    if (
        not isinstance(seq, int)
        or isinstance(seq, bool)
        or seq < 1
        or not isinstance(digest, str)
        or len(digest) != 64
        or not set(digest) <= _HEX
    ):
        raise RecordError(f"head file {path}: chain {name!r} is not {{seq, sha256}}")
    return ChainHead(seq, digest)


def check_head(
    head: ChainHead,
    *,
    last: ChainHead | None,
    sha256_at: Callable[[int], str | None],
    entries: str = "records",
    anchor: str = "the head file",
    store: str = "the store",
) -> HeadCheck:
    """Compare a chain's anchored ``head`` with the store's ``last`` entry (None: the chain is empty).

    ``sha256_at(seq)`` gives the stored entry's hash (None if absent). Behind its head, or holding another
    entry at the head's seq, the store lost or changed rows; one behind it, the station stopped between
    an entry's commit and its head write; further behind, head writes failed (each was logged).
    """
    end = 0 if last is None else last.seq
    if end < head.seq:
        missing = head.seq - end
        what = f"newest {missing} {entries} are" if missing > 1 else f"newest {_one(entries)} is"
        return HeadCheck(
            problem=f"the {what} missing: {anchor} says seq {head.seq}, {store} ends at seq {end}"
        )
    if sha256_at(head.seq) != head.sha256:
        return HeadCheck(problem=f"seq {head.seq} is not the entry {anchor} anchors: the chain was rewritten")
    behind = end - head.seq
    if behind == 0:
        return HeadCheck()
    if behind == 1:
        return HeadCheck(
            note=f"{anchor} anchors seq {head.seq}, one behind the newest {_one(entries)} (seq {end}): the "
            "station stopped between the commit of that entry and its head write (the next entry catches up)"
        )
    return HeadCheck(
        note=f"{anchor} anchors seq {head.seq}, {behind} behind the newest {_one(entries)} (seq {end}): head "
        "writes failed (see the station log); the newest entries are not anchored"
    )


def _one(entries: str) -> str:
    """``records`` -> ``record``, ``audit entries`` -> ``audit entry``."""
    return entries[:-3] + "y" if entries.endswith("ies") else entries.removesuffix("s")


class HeadKeeper:
    """Keeps one chain's head in its head file, for the code that appends to the chain.

    ``prepare`` runs inside the transaction that made an entry the chain's newest (or on open, with the
    newest entry found); it returns the head write to run after the commit, or None when the file is up
    to date or must be kept: a head file the store contradicts (rows deleted or changed) is evidence and
    is never overwritten; the entries go on being written, and each one logs why it is not anchored.
    """

    def __init__(
        self, head_file: HeadFile, chain: str, key: jws.Signer, key_id: str, *, entries: str, command: str
    ) -> None:
        self.file = head_file
        self.chain = chain
        self._key = key
        self._key_id = key_id
        self._public = key.public_key()
        self._entries = entries
        self._command = command

    def __repr__(self) -> str:
        return f"HeadKeeper({self.file!r}, chain {self.chain!r})"

    def prepare(
        self, newest: ChainHead | None, sha256_at: Callable[[int], str | None], *, opening: bool = False
    ) -> Callable[[], None] | None:
        """The head write that makes ``newest`` the chain's anchored head, or None (up to date, or kept)."""
        try:
            current = self.file.read()
        except RecordError as exc:
            self._kept(str(exc))
            return None
        if current is not None and current.kid == self._key_id:  # another kid: a replaced signing key
            try:
                jws.verify(current.text, self._public)
            except RecordError as exc:
                self._kept(f"head file {self.file.path}: {exc}")
                return None
        mine = None if current is None else current.chains.get(self.chain)
        if mine is not None:
            check = check_head(mine, last=newest, sha256_at=sha256_at, entries=self._entries)
            if check.problem is not None:
                self._kept(f"{self.file.path} ({self.chain}): {check.problem}")
                return None
            if newest is None or newest.seq == mine.seq:
                return None
            if opening:
                log.info(
                    "%s (%s): %s; caught up to seq %d", self.file.path, self.chain, check.note, newest.seq
                )
        elif newest is None:
            return None
        elif newest.seq > 1:
            log.warning(
                "%s had no head for %s; wrote one at seq %d (a store written before head files, or the "
                "file was removed: if it was removed, deleted %s cannot show; `%s` compares with the line "
                "database when there is one)",
                self.file.path,
                self.chain,
                newest.seq,
                self._entries,
                self._command,
            )
        others = (
            {} if current is None else {name: h for name, h in current.chains.items() if name != self.chain}
        )
        chains = {**others, self.chain: newest}
        return lambda: self._write(chains)

    def _write(self, chains: Mapping[str, ChainHead]) -> None:
        """After the commit: the entry is durable whatever happens here; a failure is logged, not raised."""
        try:
            self.file.write(chains, self._key, self._key_id)
        except Exception as exc:  # disk full, a token that does not answer: the store holds the entry
            log.error(
                "%s not written (%s): the %s are in the store; the head lags behind until the next write",
                self.file.path,
                exc,
                self._entries,
            )

    def _kept(self, why: str) -> None:
        log.error(
            "%s; the head file is kept as evidence and not updated, so new %s are not anchored: run `%s`, "
            "and move the head file aside once the store is accounted for",
            why,
            self._entries,
            self._command,
        )
