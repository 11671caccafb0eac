"""The register table: sizes per register class (reference §6.2, decisions §11.1-2) and register roles."""

from __future__ import annotations

import pytest

from station.devices.springcore import registers as r


def known(address: int) -> r.Register:
    spec = r.register(address)
    assert spec is not None
    return spec


@pytest.mark.parametrize(
    ("address", "good", "bad"),
    [
        (0x0200, [0, 16], [1, 15, 17]),  # Configuration GUID: exactly 16
        (0x0201, [0, 1, 19, 32], [33]),  # decision §11.1: up to 32, not the XML's 16
        (0x0202, [32], [33]),
        (0x0205, [64], [65]),  # 0203-0207: up to 64
        (0x020C, [64], [65]),  # 020B-020F: up to 64
        (0x0230, [0, 1], [2]),  # fixed size
        (0x0280, [20], [16, 21]),  # IPv4 settings: 5 x 4 bytes
        (0x023E, [3, 4], [2, 5]),  # two sizes, product dependent: both accepted
        (0x02BE, [2, 8], [4]),
        (0x0271, [1, 2], [3]),
        (0x0239, [0, 20], [21]),  # dynamic
        (0x02FF, [10, 16], [17]),
        (0x0300, [0, 64], [65]),  # templates
        (0x03FF, [64], [65]),
    ],
)
def test_sizes_by_register_class(address: int, good: list[int], bad: list[int]) -> None:
    spec = known(address)
    assert all(spec.accepts(n) for n in good)
    assert not any(spec.accepts(n) for n in bad)


def test_registers_missing_from_the_table_are_unknown() -> None:
    assert r.register(0x0222) is None
    assert r.register(0x0100) is None
    assert r.register(0x0400) is None


def test_fixed_and_dynamic_tables_do_not_overlap_and_stay_in_bank_02() -> None:
    assert not set(r._FIXED) & set(r._DYNAMIC)
    assert all(spec.address >> 8 == 0x02 for spec in r.known_registers())
    assert all(1 <= spec.max_size <= 64 for spec in r.known_registers())


def test_device_specific_readable_and_secret_sets() -> None:
    assert {*range(0x200, 0x210), 0x280, 0x281, 0x2FE, 0x2FF} == r.DEVICE_SPECIFIC
    assert r.DEVICE_SPECIFIC - {0x2FE, 0x2FF} == r.READABLE_SPECIFIC  # passwords are write-only
    assert 0x0244 not in r.DEVICE_SPECIFIC  # XML says individual, the REST API does not
    assert {0x2FE, 0x2FF} <= r.SECRET
    assert all(r.register(a) is not None for a in r.DEVICE_SPECIFIC | r.SECRET)


def test_labels_and_size_words() -> None:
    assert r.label(0x20A) == "020A"
    assert known(0x0230).describe_size() == "exactly 1 byte (or blank)"
    assert known(0x023E).describe_size() == "3 or 4 bytes (or blank)"
    assert known(0x0201).describe_size() == "0 to 32 bytes"
