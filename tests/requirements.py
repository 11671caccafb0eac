"""Tests that need a service or a privilege: skip locally with the reason, fail under CI.

Example::

    from tests.requirements import require, missing

    def test_with_postgres() -> None:
        url = os.environ.get("STATION_TEST_PG")
        require(url is not None, "no PostgreSQL: set STATION_TEST_PG or install the server binaries")

    @pytest.fixture(scope="session")
    def softhsm() -> str:
        path = shutil.which("softhsm2-util")
        if path is None:
            missing("SoftHSM2 is not installed (apt-get install softhsm2)")

A developer without PostgreSQL or SoftHSM2 still runs the rest of the suite; CI (``CI=true``, set by
``.ci/run``) installs everything, so a skip there would hide a broken setup and is a failure instead.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """True when the environment says this is a CI run (``CI=true``, as ``.ci/run`` and most CIs set)."""
    return os.environ.get("CI", "").strip().lower() == "true"


def missing(reason: str) -> NoReturn:
    """Skip the test with ``reason``; under CI, fail it with the same reason."""
    if in_ci():
        pytest.fail(f"required for CI but missing: {reason}", pytrace=False)
    pytest.skip(reason)


def require(condition: object, reason: str) -> None:
    """``missing(reason)`` unless ``condition`` holds."""
    if not condition:
        missing(reason)
