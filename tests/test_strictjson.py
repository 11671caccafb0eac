"""The strict JSON reader at every edge: duplicate keys, NaN/Infinity and deep nesting are refused.

What ``json.loads`` alone accepted: a second ``inited`` that flipped a verdict, ``NaN`` for ``temp``, and
100 000 levels of nesting that ended in RecursionError, reported as "internal". Each is now a
DeviceProtocolError with the reply's 2xx status, so the engine records ``bad-reply``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from station.core.codec import b64url_encode
from station.core.errors import BackendError, ConfigDataError, DeviceProtocolError, ProtocolError, RecordError
from station.core.strictjson import MAX_DEPTH, JsonRefused, nesting_depth, strict_loads
from station.devices.http import JsonReply
from station.devices.ppa.protocol import parse_jwt
from station.devices.ppa.replies import Status
from station.devices.ppa.wire import ReplyBody
from station.devices.springcore.configdata import load_body
from station.devices.springcore.failures import _error_object
from station.devices.springcore.replies import parse_devices
from station.factory.remote import RemoteBackend
from station.pipeline.engine import _code_of
from station.records.canonical import parse_canonical

STATUS = "/api/system/status"


def nested(depth: int, kind: str = "[") -> str:
    """``depth`` arrays (or objects, each under key "a") inside each other, around a 1."""
    if kind == "[":
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def refused(data: bytes | str, kind: str) -> JsonRefused:
    with pytest.raises(JsonRefused) as caught:
        strict_loads(data)
    assert caught.value.kind == kind
    return caught.value


# --- the reader ---------------------------------------------------------------------------------------


def test_duplicate_keys_are_refused_at_any_depth() -> None:
    assert refused(b'{"inited": false, "inited": true}', "duplicate").key == "inited"
    assert str(refused(b'{"a": [{"b": 1, "c": {"d": 1, "d": 1}}]}', "duplicate")) == "has the key 'd' twice"
    assert strict_loads(b'{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}')  # same key in other objects: fine


def test_a_duplicate_key_is_named_escaped_and_cut() -> None:
    key = "\\u001b[31m" + "k" * 100  # JSON's escape of ESC: the parsed key holds the raw character
    message = str(refused(f'{{"{key}": 1, "{key}": 2}}', "duplicate"))
    assert "\x1b" not in message and "\\x1b[31m" in message and len(message) < 80


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
def test_non_finite_numbers_are_refused(text: str) -> None:
    refused(f'{{"temp": {text}}}', "constant")


def test_finite_numbers_stay() -> None:
    assert strict_loads(b'{"temp": 31.5, "big": 1e300, "n": -7}') == {"temp": 31.5, "big": 1e300, "n": -7}


@pytest.mark.parametrize("kind", ["[", "{"])
def test_nesting_up_to_the_bound_is_read_one_more_is_refused(kind: str) -> None:
    assert MAX_DEPTH == 32
    strict_loads(nested(31, kind))
    strict_loads(nested(32, kind))
    assert str(refused(nested(33, kind), "depth")) == "is nested deeper than 32 levels"


def test_100000_levels_are_refused_quickly_and_never_recurse() -> None:
    started = time.monotonic()
    refused(nested(100_000), "depth")
    refused(nested(100_000, "{"), "depth")
    refused("[" * 100_000, "depth")  # not even closed
    assert time.monotonic() - started < 2


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"a": "[" * 1000, "b": '\\"[[[{{{', "c": [[["x]]]]]"]]]})
    assert nesting_depth(text) == 4
    assert strict_loads(text)["a"] == "[" * 1000


def test_huge_but_shallow_is_fine() -> None:
    shallow = json.dumps({"items": list(range(200_000)), "text": "x" * 1_000_000, "deep": nested(30)})
    assert len(strict_loads(shallow.encode())["items"]) == 200_000


def test_no_input_makes_the_depth_scan_slow() -> None:
    """Unterminated strings and runs of escapes: the scan stays linear (no regex backtracking)."""
    started = time.monotonic()
    for text in ['"' + '\\"' * 500_000, '["' + "\\" * 1_000_001, "[" * 40 + '"' * 100_001]:
        with pytest.raises(JsonRefused):
            strict_loads(text)
    assert time.monotonic() - started < 3


def test_not_utf8_and_not_json() -> None:
    assert str(refused(b"\xff{}", "utf-8")) == "is not JSON"
    refused(b"{'a': 1}", "syntax")
    refused(b"", "syntax")


# --- the device clients' reader ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            b'{"ctx":0,"uptime":1,"temp":31.5,"fls_state":0,"inited":false,"inited":true}',
            "has the key 'inited'",
        ),
        (b'{"ctx":0,"uptime":1,"temp":NaN,"fls_state":0}', "holds NaN"),
        (b'{"ctx":0,"uptime":1,"temp":Infinity,"fls_state":0}', "holds Infinity"),
        (nested(100_000, "{").encode(), "is nested deeper than 32 levels"),
    ],
)
def test_a_unit_reply_that_is_not_strict_json_is_a_bad_reply(body: bytes, problem: str) -> None:
    with pytest.raises(DeviceProtocolError) as caught:
        Status.parse(ReplyBody.decode("GET", STATUS, body, 200))
    error = caught.value
    assert (error.status, error.endpoint, error.field) == (200, STATUS, None)
    assert str(error).startswith(f"GET {STATUS}: reply {problem}")
    assert _code_of(error) == "bad-reply"


def test_the_same_reply_without_its_duplicate_parses() -> None:
    body = b'{"ctx":0,"uptime":1,"temp":31.5,"fls_state":0,"inited":false}'
    assert Status.parse(ReplyBody.decode("GET", STATUS, body)).inited is False


def test_companion_replies_are_strict_too() -> None:
    for body in (b'[{"DeviceId": "a", "DeviceId": "b"}]', nested(5000).encode(), b"[NaN]"):
        with pytest.raises(DeviceProtocolError) as caught:
            parse_devices("GET", "/devices", body)
        assert caught.value.status == 200
    assert _error_object(nested(100_000, "{").encode()) == (None, None)  # an error body: just no message
    assert _error_object(b'{"Message": "x", "Message": "y"}') == (None, None)


def test_a_reader_profile_with_a_key_twice_or_too_deep_is_refused() -> None:
    with pytest.raises(ConfigDataError) as twice:
        load_body(b'{"config": {"01.s": "a", "01.s": "b"}}')
    assert twice.value.rule == "duplicate"
    with pytest.raises(ConfigDataError, match="nested deeper than 32 levels"):
        load_body(nested(100_000, "{").encode())


def test_a_unit_token_with_deep_claims_is_a_protocol_error() -> None:
    header = b64url_encode(b'{"alg":"HS256","typ":"JWT"}')
    for claims in (nested(100_000, "{").encode(), b'{"status":"OK","status":"W"}', b'{"iat":NaN}'):
        with pytest.raises(ProtocolError, match="JWT header or claims"):
            parse_jwt(f"{header}.{b64url_encode(claims)}.{b64url_encode(b'sig')}")


def test_a_record_payload_nested_too_deep_is_a_record_error() -> None:
    with pytest.raises(RecordError, match="nested deeper than 32 levels"):
        parse_canonical(nested(100_000, "{").encode())


def test_json_reply_accessors_still_read_the_parsed_object() -> None:
    body = JsonReply.decode("GET", "/x", b'{"n": 3, "t": "a"}')
    assert (body.integer("n"), body.text("t")) == (3, "a")


# --- the factory backend's replies ------------------------------------------------------------------------


class _Canned(BaseHTTPRequestHandler):
    reply = b"{}"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.reply)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(self.reply)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def backend_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (b'{"checked": "a.b.c", "checked": "d.e.f"}', "has the key 'checked' twice"),
        (nested(100_000, "{").encode(), "is nested deeper than 32 levels"),
        (b'{"checked": "a.b.c", "n": NaN}', "holds NaN"),
    ],
)
def test_backend_replies_are_strict(backend_url: str, reply: bytes, problem: str) -> None:
    _Canned.reply = reply
    with pytest.raises(BackendError, match=f"/checkin: reply {problem}"):
        RemoteBackend(backend_url, timeout=5).checkin("a.b.c")
