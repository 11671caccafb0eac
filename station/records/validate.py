"""Structural and semantic checks of a record payload (docs/records.md), shared by the writer and verifiers.

>>> refuse_secret_names({"personalization": {"sealed_secrets": {"passphrase": "<sealed>"}}}, "")  # allowed
>>> validate_payload({"personalization": {"profile": "default", "passphrase": "ABCD-EFGH"}})
Traceback (most recent call last):
station.core.errors.RecordError: personalization.passphrase: a field named like a secret may only appear ...
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from station.core.errors import RecordError

SCHEMA = "ppa-station/record/1"
MODES = ("production", "qa", "rma", "readers")
OUTCOMES = ("pass", "fail", "error", "aborted")
STEP_OUTCOMES = (*OUTCOMES, "skipped")
SECRET_WORDS = ("passphrase", "mnemonic", "private", "password")
SEALED = "sealed_secrets"

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_SECRET = re.compile("|".join(map(re.escape, SECRET_WORDS)))
_SECRET_BYTES = tuple(word.encode("ascii") for word in SECRET_WORDS)
_WORD1, _WORD2, _WORD3, _WORD4 = _SECRET_BYTES  # one name each, for _names_a_secret_word
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def validate_payload(payload: Mapping[str, Any], *, canonical: bytes | None = None) -> None:
    """Raise RecordError naming the first field of ``payload`` that breaks the record schema.

    ``canonical``: the payload's RFC 8785 bytes, when the caller has them (a verifier does). If no secret
    word appears anywhere in them (ASCII case folded), no key can be named like a secret and the walk
    over every key is skipped: canonical JSON spells every letter of a key as itself (it escapes only
    quotes, backslashes and control characters), and the only characters outside ASCII that ``lower()``
    turns into ASCII letters are U+0130 (to "i" and a combining dot) and U+212A (to "k"), which end or
    hold no secret word. tests/records/test_secrets.py holds both roads to the same answer.
    """
    if canonical is None or _names_a_secret_word(canonical.lower()):
        refuse_secret_names(payload, "")
    if payload.get("schema") != SCHEMA:
        raise RecordError(f"schema is not {SCHEMA!r}")
    _uuid(payload, "record_id", "", version=4)
    _station(_object(payload, "station", ""))
    seq = _get(payload, "seq", "")
    if not _is_int(seq) or seq < 1:
        raise RecordError("seq is not a positive integer")
    _text(payload, "prev", "", pattern=_HEX64)
    _choice(payload, "mode", "", MODES)
    _texts(_object(payload, "operator", ""), "operator", ("id", "role"))
    _fixture(_object(payload, "fixture", ""))
    _unit(_object(payload, "unit", ""), payload["mode"])
    _provisioning(payload.get("provisioning"))
    _personalization(payload.get("personalization"))
    _steps(_get(payload, "steps", ""))
    _times(payload, "")
    _links(_object(payload, "links", ""))
    if not isinstance(_get(payload, "simulated", ""), bool):
        raise RecordError("simulated is not true or false")
    _outcome(payload)


def _names_a_secret_word(lowered: bytes) -> bool:
    # Substring searches spelled out: faster than a regex, or than a loop over _SECRET_BYTES.
    return _WORD1 in lowered or _WORD2 in lowered or _WORD3 in lowered or _WORD4 in lowered


def refuse_secret_names(value: Any, path: str) -> None:
    """Refuse any object key that sounds like a secret, except inside ``sealed_secrets``.

    Walks every key of every record a verifier reads, so the path is only spelled out for a refusal
    (``_secret_path``), and plain dicts and lists skip the slower abstract-class checks.
    """
    if _holds_secret_name(value):
        where = _secret_path(value, path)
        raise RecordError(f"{where}: a field named like a secret may only appear under {SEALED}")


def _holds_secret_name(value: Any) -> bool:
    kind = type(value)
    if kind is str or value is None or kind is int or kind is bool or kind is float:
        return False
    if kind is dict or (kind is not list and kind is not tuple and isinstance(value, Mapping)):
        for key, item in value.items():
            if key == SEALED:
                continue
            if _SECRET.search(str(key).lower()) is not None or _holds_secret_name(item):
                return True
        return False
    if kind is list or kind is tuple or isinstance(value, list | tuple):
        return any(_holds_secret_name(item) for item in value)
    return False


def _secret_path(value: Any, path: str) -> str:
    """The path of the first key ``_holds_secret_name`` refuses, in the order it walks."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = _join(path, str(key))
            if key == SEALED:
                continue
            if _SECRET.search(str(key).lower()) is not None:
                return where
            if _holds_secret_name(item):
                return _secret_path(item, where)
    else:
        for index, item in enumerate(value):
            if _holds_secret_name(item):
                return _secret_path(item, f"{path}[{index}]")
    raise AssertionError("no secret name found")  # pragma: no cover (called only when there is one)


def _station(station: Mapping[str, Any]) -> None:
    _text(station, "id", "station")
    _text(station, "software", "station")
    _text(station, "config_sha256", "station", pattern=_HEX64)
    _text(station, "key_id", "station", pattern=_HEX16)


def _fixture(fixture: Mapping[str, Any]) -> None:
    _text(fixture, "slot", "fixture")
    _text(fixture, "port", "fixture", optional=True)


def _unit(unit: Mapping[str, Any], mode: str) -> None:
    if mode == "readers":
        _text(unit, "device_id", "unit")
        for name in ("serial", "product", "firmware", "inventory", "config_id"):
            _text(unit, name, "unit", optional=True)
        if unit.get("config_sha256") is not None:
            _text(unit, "config_sha256", "unit", pattern=_HEX64)
        return
    for name in ("devid", "genuine_id", "eid", "eid_sign", "instanceid", "hwv", "fwv", "blv"):
        _text(unit, name, "unit", optional=True)


def _provisioning(provisioning: Any) -> None:
    if provisioning is None:
        return
    if not isinstance(provisioning, Mapping):
        raise RecordError("provisioning is not an object or null")
    crt = _text(provisioning, "crt", "provisioning")
    digest = _text(provisioning, "crt_sha256", "provisioning", pattern=_HEX64)
    _text(provisioning, "attestation_key_sha1", "provisioning", pattern=_HEX40)
    status = _get(provisioning, "refusal_status", "provisioning")
    if status is not None and not _is_int(status):
        raise RecordError("provisioning.refusal_status is not an integer or null")
    if not isinstance(provisioning.get("confirmed", True), bool):  # absent in records before the field
        raise RecordError("provisioning.confirmed is not true or false")
    try:
        der = base64.b64decode(str(crt), validate=True)
    except (binascii.Error, ValueError):
        raise RecordError("provisioning.crt is not base64") from None
    if hashlib.sha256(der).hexdigest() != digest:
        raise RecordError("provisioning.crt_sha256 is not the SHA-256 of provisioning.crt")


def _personalization(personalization: Any) -> None:
    if personalization is None:
        return
    if not isinstance(personalization, Mapping):
        raise RecordError("personalization is not an object or null")
    _text(personalization, "profile", "personalization")


def _steps(steps: Any) -> None:
    if not isinstance(steps, list):
        raise RecordError("steps is not a list")
    for index, step in enumerate(steps):
        if _plain_step(step):
            continue
        where = f"steps[{index}]"
        if not isinstance(step, Mapping):
            raise RecordError(f"{where} is not an object")
        _text(step, "name", where)
        _choice(step, "outcome", where, STEP_OUTCOMES)
        _times(step, where)
        attempts = _get(step, "attempts", where)
        if not _is_int(attempts) or attempts < 0:
            raise RecordError(f"{where}.attempts is not a count")
        _object(step, "detail", where)


def _plain_step(step: Any) -> bool:
    """Whether ``step`` passes every check ``_steps`` makes of it, decided without the calls that name a
    problem: a plain dict of plain values only, so anything else (a subclass, a missing or wrong field)
    takes the road that names the first problem. tests/records/test_validate_fast.py holds both roads
    to the same verdicts."""
    if type(step) is not dict:
        return False
    name, attempts = step.get("name"), step.get("attempts")
    return (
        type(name) is str
        and name != ""
        and step.get("outcome") in STEP_OUTCOMES
        and _plain_time(step.get("started"))
        and _plain_time(step.get("finished"))
        and type(attempts) is int
        and attempts >= 0
        and type(step.get("detail")) is dict
    )


def _plain_time(value: Any) -> bool:
    """Whether ``value`` is text ``_parse_time`` accepts."""
    if type(value) is not str or _TIME.match(value) is None:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _links(links: Mapping[str, Any]) -> None:
    for name in ("supersedes", "verifies"):
        if _get(links, name, "links") is not None:
            _uuid(links, name, "links", version=None)


def _outcome(payload: Mapping[str, Any]) -> None:
    outcome = _choice(payload, "outcome", "", OUTCOMES)
    failure = _get(payload, "failure", "")
    if outcome == "pass" and failure is not None:
        raise RecordError("failure must be null when outcome is pass")
    if outcome != "pass":
        if not isinstance(failure, Mapping):
            raise RecordError(f"failure must say why when outcome is {outcome}")
        _texts(failure, "failure", ("step", "code", "message"))
    provisioning = payload.get("provisioning")
    if outcome == "pass" and isinstance(provisioning, Mapping) and provisioning.get("confirmed") is False:
        raise RecordError(
            "provisioning.confirmed is false in a passing record (never read back from the unit)"
        )
    if outcome == "pass" and payload["mode"] == "production":
        unit = payload["unit"]
        for name in ("devid", "genuine_id"):
            if not unit.get(name):
                raise RecordError(f"unit.{name} is required in a passing production record")
        if payload.get("provisioning") is None:
            raise RecordError("provisioning is required in a passing production record")
    if outcome == "pass" and payload["mode"] == "readers":
        for name in ("config_id", "config_sha256"):
            if not payload["unit"].get(name):
                raise RecordError(f"unit.{name} is required in a passing readers record")


def _times(obj: Mapping[str, Any], path: str) -> None:
    # No "finished >= started" rule: a wall clock stepped back by NTP must not cost a unit its record.
    _parse_time(obj, "started", path)
    _parse_time(obj, "finished", path)


def _parse_time(obj: Mapping[str, Any], key: str, path: str) -> datetime:
    text = _text(obj, key, path, pattern=_TIME)
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # the right shape but no such day or hour
        raise RecordError(f"{_join(path, key)} is not a valid time") from None


def _uuid(obj: Mapping[str, Any], key: str, path: str, *, version: int | None) -> None:
    text = _text(obj, key, path)
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        raise RecordError(f"{_join(path, key)} is not a UUID") from None
    if str(parsed) != text or (version is not None and parsed.version != version):
        raise RecordError(f"{_join(path, key)} is not a lowercase UUID{'' if version is None else version}")


def _choice(obj: Mapping[str, Any], key: str, path: str, choices: tuple[str, ...]) -> str:
    value = _get(obj, key, path)
    if value not in choices:
        shown = repr(value) if isinstance(value, str) and len(value) <= 20 else "not allowed"
        raise RecordError(f"{_join(path, key)} is {shown}, expected one of {', '.join(choices)}")
    return str(value)


def _texts(obj: Mapping[str, Any], path: str, keys: tuple[str, ...]) -> None:
    for key in keys:
        _text(obj, key, path)


def _text(
    obj: Mapping[str, Any],
    key: str,
    path: str,
    *,
    optional: bool = False,
    pattern: re.Pattern[str] | None = None,
) -> str:
    if key not in obj:
        raise RecordError(f"{_join(path, key)} is missing")
    value = obj[key]
    if type(value) is str and value:  # the usual case, checked first
        if pattern is not None and not pattern.match(value):
            raise RecordError(f"{_join(path, key)} is not in the expected form ({pattern.pattern})")
        return value
    if value is None and optional:
        return ""
    if not isinstance(value, str) or (not value and not optional):
        raise RecordError(f"{_join(path, key)} is not {'text or null' if optional else 'non-empty text'}")
    if pattern is not None and not pattern.match(value):
        raise RecordError(f"{_join(path, key)} is not in the expected form ({pattern.pattern})")
    return value


def _object(obj: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = _get(obj, key, path)
    if not isinstance(value, Mapping):
        raise RecordError(f"{_join(path, key)} is not an object")
    return value


def _get(obj: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in obj:
        raise RecordError(f"{_join(path, key)} is missing")
    return obj[key]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
