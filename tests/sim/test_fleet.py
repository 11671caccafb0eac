"""Many units in one process: 32 simulated PPAs answer concurrently, each as itself."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from station.core import codec
from station.devices.ppa import protocol as p
from station.sim.ppa.fleet import start_fleet, stop_fleet
from tests.conftest import BACKEND_PRIVATE
from tests.simtools import get


def test_thirty_two_units_answer_concurrently_each_as_itself() -> None:
    units = start_fleet(32, backend_key=codec.x25519_public_key(BACKEND_PRIVATE))
    try:
        urls = {unit.http_url for unit in units} | {unit.https_url for unit in units}
        assert len(urls) == 64

        def identify(index: int) -> tuple[int, str, int]:
            unit = units[index % 32]
            base = unit.https_url if index >= 32 else unit.http_url
            check = get(base, "/api/system/checkin").json()["check"]
            qid = p.parse_jwt(check).claims["qid"]
            return index % 32, qid, get(base, "/api/system/status").status_code

        with ThreadPoolExecutor(max_workers=64) as pool:
            answers = list(pool.map(identify, range(64)))
        for slot, qid, status in answers:
            assert status == 200
            assert qid == p.checkin_qid(units[slot].devid)
        assert len({u.devid for u in units}) == 32
        assert [u.describe()["slot"] for u in units] == list(range(32))
    finally:
        stop_fleet(units)
