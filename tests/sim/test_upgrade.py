"""Firmware and web-app upgrade on the simulated unit (reference §8), over real HTTP.

A fresh unit needs no token for these endpoints, so most tests run unpersonalised; the authorization and
audit-log tests personalise the unit first. Verification tasks finish only after one 202 poll (see
``routes/upgrade.py``), so every happy path walks 201 → 202 → 200. Images are opaque bytes: the simulated
unit accepts those whose SHA-256 its list names (``sim/ppa/images.py``), as a real unit accepts what
Encedo signed.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ed25519

from station.core.codec import b64decode, b64encode, x25519_public_key
from station.devices.ppa.auditlog import verify_audit_log
from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.images import SHIPPED, TEST_VENDOR_PUBLIC_KEY, encedo_signs, judge
from station.sim.ppa.timing import TimingProfile
from tests.conftest import BACKEND_PRIVATE
from tests.simtools import MASTER_PRIVATE, TIMEOUT, checkin, get, login, personalise, reboot, settle

IMAGES = Path(__file__).resolve().parents[2] / "firmware_images"
FW_ENTRY = json.loads((IMAGES / "manifest.json").read_text())["images"][0]
FW_IMAGE = (IMAGES / FW_ENTRY["file"]).read_bytes()  # the shipped TEST image: in the built-in list
UI_IMAGE = os.urandom(5000)  # random bytes this module has "Encedo" sign as a web app
UI_SIGNED = encedo_signs(UI_IMAGE, "Encedo Manager v0.69 TEST", kind="ui")
FILENAMES = {"fw": "firmware.bin", "ui": "webroot.tar"}
UPGRADE = "/api/system/upgrade"


def upload(
    unit: SimulatedPpa,
    kind: str,
    data: bytes,
    filename: str | None = None,
    token: str | None = None,
    **headers: str,
) -> requests.Response:
    """A raw upload the way the Manager sends it: octet-stream body, file name in Content-Disposition."""
    sent = {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="{filename or FILENAMES[kind]}"',
        **headers,
    }
    if token:
        sent["Authorization"] = f"Bearer {token}"
    return requests.post(f"{unit.http_url}{UPGRADE}/upload_{kind}", data=data, headers=sent, timeout=TIMEOUT)


def call(unit: SimulatedPpa, name: str, token: str | None = None) -> requests.Response:
    return get(unit.http_url, f"{UPGRADE}/{name}", token)


def check_until_done(unit: SimulatedPpa, kind: str, token: str | None = None) -> list[int]:
    """Poll check_<kind> until it leaves 201/202, the task's time passing between polls; every status seen."""
    seen = [call(unit, f"check_{kind}", token).status_code]
    while seen[-1] in (201, 202) and len(seen) < 10:
        pass_time(unit, unit.timing.fw_check)
        seen.append(call(unit, f"check_{kind}", token).status_code)
    return seen


def pass_time(unit: SimulatedPpa, seconds: float) -> None:
    """Move the unit's manual clock (or wait on a real one)."""
    if isinstance(unit.clock.monotonic, ManualTime):
        unit.clock.monotonic.advance(seconds)
    else:
        time.sleep(seconds)


def wait_until_back(unit: SimulatedPpa) -> dict[str, Any]:
    """Status once the unit answers again after a restart it announced with its last reply."""
    settle(unit)
    return dict(get(unit.http_url, "/api/system/status").json())
    raise AssertionError("unit did not come back")


def raw_post(unit: SimulatedPpa, path: str, headers: dict[str, str], body: bytes) -> int:
    """POST exactly these bytes, half-close, and return the status (0 if the unit closed without one)."""
    port = int(unit.http_url.rsplit(":", 1)[1])
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        try:
            sock.sendall(head.encode() + b"\r\n" + body)
            sock.shutdown(socket.SHUT_WR)
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            raise
        except OSError:
            pass  # reset or not connected: the unit dropped the request without answering
    return int(answer.split(b" ", 2)[1]) if answer else 0


def to_intel_hex(data: bytes) -> bytes:
    """Intel HEX text of ``data`` at address 0x10000 (an extended linear address record first)."""

    def record(rtype: int, address: int, payload: bytes) -> str:
        raw = bytes([len(payload), address >> 8, address & 0xFF, rtype]) + payload
        return ":" + (raw + bytes([-sum(raw) & 0xFF])).hex().upper()

    lines = [record(4, 0, (1).to_bytes(2, "big"))]
    lines += [record(0, offset, data[offset : offset + 16]) for offset in range(0, len(data), 16)]
    return ("\n".join([*lines, record(1, 0, b"")]) + "\n").encode()


@pytest.fixture
def slow_unit(manual_time: ManualTime) -> Iterator[SimulatedPpa]:
    """A unit whose verification task takes 4 s of device time (the realistic profile's value)."""
    timing = TimingProfile("slow-check", fw_check=4.0)
    with SimulatedPpa(
        backend_key=x25519_public_key(BACKEND_PRIVATE), monotonic=manual_time, timing=timing
    ) as dev:
        yield dev


# --- the shipped test images ----------------------------------------------------------------------------


def test_the_shipped_image_is_in_the_simulators_list_as_its_manifest_says() -> None:
    assert hashlib.sha256(FW_IMAGE).hexdigest() == FW_ENTRY["sha256"]
    assert (
        SHIPPED["fw"]
        == {FW_ENTRY["sha256"]: FW_ENTRY["fwv"]}
        == {FW_ENTRY["sha256"]: "Encedo nGINE FW v1.2.3"}
    )
    signed = judge(FW_IMAGE, "fw", b64decode(TEST_VENDOR_PUBLIC_KEY))
    assert signed is not None and b64encode(signed.signature) == FW_ENTRY["fws"]
    assert judge(FW_IMAGE, "ui", b64decode(TEST_VENDOR_PUBLIC_KEY)) is None  # accepted as firmware only
    assert 1024 < len(FW_IMAGE) < 16 * 1024


# --- firmware -------------------------------------------------------------------------------------------


def test_firmware_upload_check_install_reboots_into_the_new_version(unit: SimulatedPpa) -> None:
    before = get(unit.http_url, "/api/system/version").json()
    assert before["fwv"] == "Encedo nGINE FW v1.2.2"
    staged = upload(unit, "fw", FW_IMAGE)
    assert (staged.status_code, staged.content) == (200, b"")
    assert staged.headers["Content-Type"] == "application/json"
    assert check_until_done(unit, "fw") == [201, 202, 200]
    assert call(unit, "check_fw").status_code == 200  # the result stays until install
    installed = call(unit, "install_fw")
    assert (installed.status_code, installed.content) == (200, b"")
    assert installed.headers["Connection"] == "close"

    assert wait_until_back(unit)["fw_upgrade"] is True
    after = get(unit.http_url, "/api/system/version").json()
    assert after["fwv"] == "Encedo nGINE FW v1.2.3"
    assert after["fws"] == FW_ENTRY["fws"]
    assert call(unit, "check_fw").status_code == 404  # the staged image was consumed
    reboot(unit)
    assert "fw_upgrade" not in get(unit.http_url, "/api/system/status").json()


def test_check_runs_for_the_profiles_duration(slow_unit: SimulatedPpa, manual_time: ManualTime) -> None:
    assert upload(slow_unit, "fw", FW_IMAGE).status_code == 200
    assert call(slow_unit, "check_fw").status_code == 201
    assert call(slow_unit, "check_fw").status_code == 202
    manual_time.advance(3.9)
    assert call(slow_unit, "check_fw").status_code == 202
    assert call(slow_unit, "install_fw").status_code == 409  # install while the check runs
    manual_time.advance(0.1)
    assert call(slow_unit, "check_fw").status_code == 200


def test_task_finishes_only_after_a_poll_while_running(
    slow_unit: SimulatedPpa, manual_time: ManualTime
) -> None:
    assert upload(slow_unit, "fw", FW_IMAGE).status_code == 200
    assert call(slow_unit, "check_fw").status_code == 201
    manual_time.advance(60)
    assert check_until_done(slow_unit, "fw") == [202, 200]


def test_check_without_an_upload_is_404(unit: SimulatedPpa) -> None:
    assert call(unit, "check_fw").status_code == 404
    assert call(unit, "check_ui").status_code == 404


def tampered(image: bytes) -> bytes:
    return bytes([image[0] ^ 0x01]) + image[1:]


@pytest.mark.parametrize(
    "image",
    [tampered(FW_IMAGE), FW_IMAGE + b"\0", UI_IMAGE, os.urandom(4096)],
    ids=["tampered", "appended", "signed-as-ui", "nobody-signed"],
)
def test_image_that_does_not_verify_fails_the_check(unit: SimulatedPpa, image: bytes) -> None:
    assert upload(unit, "fw", image).status_code == 200
    assert check_until_done(unit, "fw") == [201, 202, 406]
    assert call(unit, "check_fw").status_code == 406
    assert call(unit, "install_fw").status_code == 406
    assert get(unit.http_url, "/api/system/version").json()["fwv"] == "Encedo nGINE FW v1.2.2"


def test_a_unit_trusting_another_vendor_key_refuses_every_image(manual_time: ManualTime) -> None:
    other_vendor = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    with SimulatedPpa(
        backend_key=x25519_public_key(BACKEND_PRIVATE), monotonic=manual_time, vendor_key=other_vendor
    ) as dev:
        assert get(dev.http_url, "/api/system/version").json()["fwk"] == b64encode(other_vendor)
        assert upload(dev, "fw", FW_IMAGE).status_code == 200
        assert check_until_done(dev, "fw") == [201, 202, 406]


def test_install_without_a_verified_image_is_406(unit: SimulatedPpa) -> None:
    assert call(unit, "install_fw").status_code == 406
    assert upload(unit, "fw", FW_IMAGE).status_code == 200
    assert call(unit, "install_fw").status_code == 406  # uploaded but never checked


def test_firmware_hex_upload_is_decoded(unit: SimulatedPpa) -> None:
    assert upload(unit, "fw", to_intel_hex(FW_IMAGE), filename="firmware.hex").status_code == 200
    assert check_until_done(unit, "fw") == [201, 202, 200]
    broken = to_intel_hex(FW_IMAGE).replace(b"\n:10", b"\n:11", 1)
    assert upload(unit, "fw", broken, filename="firmware.hex").status_code == 200
    assert check_until_done(unit, "fw") == [201, 202, 406]


def test_new_upload_replaces_the_staged_image(unit: SimulatedPpa) -> None:
    assert upload(unit, "fw", tampered(FW_IMAGE)).status_code == 200
    assert check_until_done(unit, "fw")[-1] == 406
    assert upload(unit, "fw", FW_IMAGE).status_code == 200
    assert check_until_done(unit, "fw") == [201, 202, 200]


# --- upload transport rules -----------------------------------------------------------------------------


def test_stream_that_ends_early_is_406(unit: SimulatedPpa) -> None:
    headers = {"Content-Disposition": 'attachment; filename="firmware.bin"', "Content-Length": "4224"}
    assert raw_post(unit, f"{UPGRADE}/upload_fw", headers, FW_IMAGE[:1000]) == 406
    assert call(unit, "check_fw").status_code == 404  # nothing was staged


def test_upload_size_and_name_rules(unit: SimulatedPpa) -> None:
    assert upload(unit, "fw", b"").status_code == 411
    no_name = {"Content-Disposition": "attachment", "Content-Length": "4224"}
    assert raw_post(unit, f"{UPGRADE}/upload_fw", no_name, b"") == 413  # refused before the body is read
    huge = {"Content-Disposition": 'attachment; filename="firmware.bin"', "Content-Length": str(17 << 20)}
    assert raw_post(unit, f"{UPGRADE}/upload_fw", huge, b"") == 413  # refused before the body is read
    over_3mib = {"Content-Disposition": 'attachment; filename="firmware.bin"', "Content-Length": str(4 << 20)}
    assert raw_post(unit, f"{UPGRADE}/upload_fw", over_3mib, b"") == 0  # closed without an answer
    with pytest.raises(requests.ConnectionError):
        upload(unit, "fw", FW_IMAGE, filename="fw.bin")
    with pytest.raises(requests.ConnectionError):
        upload(unit, "ui", UI_IMAGE, filename="firmware.bin")


def test_upload_from_a_foreign_origin_is_412(unit: SimulatedPpa) -> None:
    unit.state.config.origin = "https://ok.example"
    assert upload(unit, "fw", FW_IMAGE, Origin="https://evil.example").status_code == 412
    assert upload(unit, "fw", FW_IMAGE, Origin="https://ok.example").status_code == 200
    assert (
        get(unit.http_url, f"{UPGRADE}/check_fw", headers={"Origin": "https://evil.example"}).status_code
        == 412
    )


# --- web app --------------------------------------------------------------------------------------------


def test_ui_upload_check_install_activates_without_reboot(
    unit: SimulatedPpa, manual_time: ManualTime
) -> None:
    manual_time.advance(30)
    assert upload(unit, "ui", UI_IMAGE).status_code == 200
    assert check_until_done(unit, "ui") == [201, 202, 200]
    installed = call(unit, "install_ui")
    assert (installed.status_code, installed.content) == (200, b"")
    version = get(unit.http_url, "/api/system/version").json()  # answers at once: no reboot
    assert version["uis"] == b64encode(bytes.fromhex(UI_SIGNED.sha256))
    status = get(unit.http_url, "/api/system/status").json()
    assert status["uptime"] >= 30
    assert "fw_upgrade" not in status
    assert call(unit, "install_ui").status_code == 406  # nothing verified is staged any more


@pytest.mark.parametrize("image", [tampered(UI_IMAGE), FW_IMAGE], ids=["tampered", "signed-as-fw"])
def test_ui_image_that_does_not_verify_fails_the_check(unit: SimulatedPpa, image: bytes) -> None:
    assert upload(unit, "ui", image).status_code == 200
    assert check_until_done(unit, "ui") == [201, 202, 406]


def test_one_verification_task_at_a_time(slow_unit: SimulatedPpa, manual_time: ManualTime) -> None:
    assert upload(slow_unit, "fw", FW_IMAGE).status_code == 200
    assert upload(slow_unit, "ui", UI_IMAGE).status_code == 200
    assert call(slow_unit, "check_fw").status_code == 201
    assert call(slow_unit, "check_ui").status_code == 409  # unexpected task state: the fw task runs
    assert call(slow_unit, "install_ui").status_code == 409
    assert call(slow_unit, "usbmode").status_code == 409
    manual_time.advance(4)
    assert check_until_done(slow_unit, "fw") == [202, 200]
    assert call(slow_unit, "check_ui").status_code == 201


# --- usbmode --------------------------------------------------------------------------------------------


def test_usbmode_answers_then_the_unit_leaves_the_network(unit: SimulatedPpa) -> None:
    devid = unit.devid
    reply = call(unit, "usbmode")
    assert (reply.status_code, reply.content) == (200, b"")
    with pytest.raises(requests.ConnectionError):
        get(unit.http_url, "/api/system/status")
    unit.replug(new_unit=False)  # a power cycle boots the normal firmware again
    assert get(unit.http_url, "/api/system/status").status_code == 200
    assert unit.devid == devid


# --- authorization and audit log (personalised unit) ----------------------------------------------------


def test_personalised_unit_needs_an_upgrade_token(unit: SimulatedPpa) -> None:
    config_token = personalise(unit.http_url, BACKEND_PRIVATE).token  # scope system:config, role U
    for name in ("check_fw", "install_fw", "check_ui", "install_ui", "usbmode"):
        assert call(unit, name).status_code == 401, name
    assert upload(unit, "fw", FW_IMAGE).status_code == 401
    assert upload(unit, "fw", FW_IMAGE, token=config_token).status_code == 403  # upload needs system:upgrade
    assert call(unit, "usbmode", config_token).status_code == 403
    assert call(unit, "check_fw", config_token).status_code == 404  # check accepts system:config
    logger_token = login(unit.http_url, "logger:get")
    assert call(unit, "check_fw", logger_token).status_code == 403
    assert call(unit, "install_ui", logger_token).status_code == 403
    upgrade_token = login(unit.http_url, "system:upgrade")
    assert upload(unit, "ui", UI_IMAGE, token=upgrade_token).status_code == 200
    assert check_until_done(unit, "ui", config_token) == [201, 202, 200]
    assert call(unit, "install_ui", config_token).status_code == 200


def test_upgrade_is_audit_logged(unit: SimulatedPpa) -> None:
    personalise(unit.http_url, BACKEND_PRIVATE)
    settle(unit)
    token = login(unit.http_url, "system:upgrade", MASTER_PRIVATE)  # role M may upgrade
    assert call(unit, "install_fw", token).status_code == 406
    assert call(unit, "install_fw", login(unit.http_url, "logger:get")).status_code == 403
    assert upload(unit, "fw", FW_IMAGE, token=token).status_code == 200
    assert check_until_done(unit, "fw", token)[-1] == 200
    assert call(unit, "install_fw", token).status_code == 200
    wait_until_back(unit)
    checkin(unit.http_url, BACKEND_PRIVATE).raise_for_status()  # trusted_ts: login needs the RTC again

    reader = login(unit.http_url, "logger:get")
    files = get(unit.http_url, "/api/logger/list", reader).json()["id"]
    text = get(unit.http_url, f"/api/logger/{files[-2]}", reader).text
    key = b64decode(get(unit.http_url, "/api/logger/key", reader).json()["key"])
    events = [(r.type, r.result, r.subject) for r in verify_audit_log(text, key)]
    upgrade_events = [e for e in events if e[0] in (Event.UPGRADE, Event.FAILED_SCOPE_CHECK)]
    assert upgrade_events == [
        (Event.UPGRADE, Result.ERROR, "M"),
        (Event.FAILED_SCOPE_CHECK, Result.FAILED, "U"),
        (Event.UPGRADE, Result.OK, "M"),
    ]
