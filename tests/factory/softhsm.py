"""A SoftHSM2 of the test run's own, in a temporary folder: its own config, token folder and tokens.

Example::

    @pytest.fixture(scope="session")
    def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
        return shared_softhsm(tmp_path_factory)          # skipped locally, failed under CI, if missing

    def test_something(hsm: SoftHsm, tmp_path: Path) -> None:
        pin_file = hsm.pin_file("factory", tmp_path)     # 0600 file holding that token's user PIN
        keys = hsm.keys_table(ca=hsm.uri("factory", "ca-1"), pin_file=str(pin_file))

SoftHSM2 reads ``SOFTHSM2_CONF`` when the module is initialised, once per process, and sees only the
tokens that existed then. So one installation serves the whole test process: every token a test needs
is initialised up front (``softhsm2-util --init-token --free``) and the config goes into ``os.environ``
before python-pkcs11 first loads the module; subprocesses inherit it. Tests keep apart by giving their
key objects unique labels (``unique_label``). PINs are random, so a test that greps output for a PIN
cannot be fooled by a digit string that happens to appear elsewhere.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.requirements import missing

MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
TOKENS = ("factory", "station", "pinfile", "wrongpin", "spare")
PIN_ENV = "STATION_TEST_TOKEN_PIN"


@dataclass(frozen=True)
class SoftHsm:
    """The installation: module path, config file, and each token's user PIN."""

    module: str
    conf: Path
    pins: dict[str, str]

    def pin(self, token: str) -> str:
        return self.pins[token]

    def pin_file(self, token: str, folder: Path, *, mode: int = 0o600) -> Path:
        """A file in ``folder`` holding ``token``'s user PIN and a newline, with ``mode``."""
        path = folder / f"{token}.pin"
        path.write_text(self.pins[token] + "\n", encoding="utf-8")
        path.chmod(mode)
        return path

    def environ(self, token: str | None = None) -> dict[str, str]:
        """``SOFTHSM2_CONF`` (and ``PIN_ENV`` = ``token``'s PIN, if given) for a station or a subprocess."""
        env = {"SOFTHSM2_CONF": str(self.conf)}
        if token is not None:
            env[PIN_ENV] = self.pins[token]
        return env

    @staticmethod
    def uri(token: str, label: str) -> str:
        return f"pkcs11:token={token};object={label}"

    def keys_table(self, **values: Any) -> dict[str, Any]:
        """A ``[keys]`` table using this module; ``values`` adds ca/signing/pin_file/pin_env."""
        return {"pkcs11_module": self.module, **values}


def unique_label(prefix: str) -> str:
    """A key label no other test of this run uses (tokens are shared by the whole run)."""
    return f"{prefix}-{secrets.token_hex(4)}"


_INSTALLED: SoftHsm | None = None


def shared_softhsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    """The run's SoftHSM2, created on first use; a missing SoftHSM2 skips locally and fails under CI."""
    global _INSTALLED  # noqa: PLW0603 - SoftHSM2 itself is initialised once per process
    if _INSTALLED is None:
        _INSTALLED = _install(tmp_path_factory.mktemp("softhsm"))
    return _INSTALLED


def _install(folder: Path) -> SoftHsm:
    util = shutil.which("softhsm2-util")
    module = next((path for path in MODULE_CANDIDATES if Path(path).is_file()), None)
    if util is None or module is None:
        missing("SoftHSM2 is not installed (apt-get install softhsm2)")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n",
        encoding="utf-8",
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)  # before python-pkcs11 loads the module in this process
    pins = {token: f"pin-{secrets.token_hex(6)}" for token in TOKENS}
    for token, pin in pins.items():
        subprocess.run(
            [util, "--init-token", "--free", "--label", token, "--so-pin", f"so-{pin}", "--pin", pin],
            check=True,
            capture_output=True,
            env={**os.environ, "SOFTHSM2_CONF": str(conf)},
            timeout=60,
        )
    return SoftHsm(module, conf, pins)
