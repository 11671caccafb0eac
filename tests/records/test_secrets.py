"""No secret reaches a record, the store's files, an exception or a repr through the records package."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.core.errors import RecordError
from station.records import RecordWriter, SqliteStore
from tests.records.factories import Ca, draft

PASSPHRASE = "Tr0ub4dor&3-user-passphrase"
MNEMONIC = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def _files(store: SqliteStore) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(store.path.parent.iterdir()) if path.is_file())


def test_refused_secrets_leave_no_trace(writer: RecordWriter, store: SqliteStore, ca: Ca) -> None:
    leaky = [
        draft(ca, personalization={"profile": "p", "user_passphrase": PASSPHRASE}),
        draft(ca, personalization={"profile": "p", "extra": {"master_mnemonic": MNEMONIC}}),
    ]
    good = draft(ca)
    leaky.append(
        dataclasses.replace(
            good, steps=(dataclasses.replace(good.steps[0], detail={"pin_or_password": PASSPHRASE}),)
        )
    )
    for record in leaky:
        with pytest.raises(RecordError) as caught:
            writer.append(record)
        for secret in (PASSPHRASE, MNEMONIC):
            assert secret not in str(caught.value) and secret not in repr(caught.value)
    run_id = store.begin_run("A1", "production")
    with pytest.raises(RecordError):
        store.journal(run_id, "personalize", "intent", {"passphrase": PASSPHRASE})
    assert list(store.records()) == []
    files = _files(store)
    assert PASSPHRASE.encode() not in files and MNEMONIC.encode() not in files


def test_writer_repr_shows_no_key_material(writer: RecordWriter, signing_key: Ed25519PrivateKey) -> None:
    raw = signing_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    text = repr(writer) + str(vars(writer).get("station"))
    for form in (
        raw.hex(),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ):
        assert form not in text
    assert "test-st01" in repr(writer)


SECRET_KEYS = [
    "passphrase", "PassPhrase", "my_private_key", "PASSWORD", "mnemonic_words", "pr\u0130vate", "\u212aey",
    "passw\u00f6rd", "pass word", "sealed_secrets", "user_password_hint", "note",
]  # fmt: skip
SECRET_VALUES = ["a passphrase was set", "private", "plain"]


@pytest.mark.parametrize("key", SECRET_KEYS)
@pytest.mark.parametrize("value", SECRET_VALUES)
@pytest.mark.parametrize("place", ["top", "step detail", "personalization", "sealed", "list"])
def test_the_canonical_text_shortcut_gives_the_walks_answer(key: str, value: str, place: str) -> None:
    """``validate_payload`` given the canonical bytes skips the key walk only when no secret word is in
    them: same error (or none) as without them, wherever the key sits and whatever its case or letters."""
    from station.records.canonical import canonical_json
    from station.records.validate import validate_payload

    nested: dict[str, Any] = {key: value}
    payload: dict[str, Any] = {
        "top": nested,
        "step detail": {"steps": [{"name": "x", "detail": nested}]},
        "personalization": {"personalization": {"profile": "p", "extra": nested}},
        "sealed": {"personalization": {"sealed_secrets": nested}},
        "list": {"values": [1, [nested]]},
    }[place]

    def verdict(**canonical: bytes) -> str | None:
        try:
            validate_payload(payload, **canonical)
        except RecordError as exc:
            return str(exc)
        return None

    assert verdict(canonical=canonical_json(payload)) == verdict()
