"""Where the station's CPU goes: cProfile results of the slot threads, as top lists and by area.

Example::

    with profiled_threads() as profiles:       # bench.harness
        bench.run(units=24)
    print(summarize(profiles, units=24, top=10))

Times are thread CPU seconds per unit. cProfile slows Python-heavy code down, so the shares matter here,
not the absolute figures (the overhead ratio is measured in a separate, unprofiled run).
"""

from __future__ import annotations

import cProfile
import pstats
from collections import defaultdict

# (substring of "file:function", area), first match wins; builtins are named like
# "<method 'execute' of 'sqlite3.Connection' objects>" with file "~". Time in a function no marker matches
# (typing, base64, a builtin) goes to the areas of its callers, in proportion to the time each caused.
HTTP = "HTTP client (devices/transport.py, urllib3, http.client, sockets)"
AREAS = (
    ("pbkdf2", "PBKDF2 (user key; BIP39 seed)"),
    ("cryptography", "other crypto (X25519, ECDSA, Ed25519, HPKE, X.509)"),
    ("sqlite3", "SQLite (records, journal, runs; synchronous=FULL)"),
    ("devices/transport.py", HTTP),  # the request edge to units (plain HTTP parsed there since issue 19)
    ("requests/", HTTP),
    ("urllib3/", HTTP),
    ("urllib/", HTTP),
    ("http/client", HTTP),
    ("email/", HTTP),
    ("socket", HTTP),
    ("json", "JSON and canonical JSON"),
    ("rfc8785", "JSON and canonical JSON"),
    ("mnemonic", "BIP39 mnemonic (word list)"),
    ("station/", "station code (engine, flow, client, records)"),
    ("threading.py", "threads, locks, waits"),
)
OTHER = "other (standard library, builtins)"
Key = tuple[str, int, str]  # (file, line, function)
Entry = tuple[int, int, float, float, dict[Key, tuple[int, int, float, float]]]  # cc, nc, own, cum, callers


def summarize(profiles: list[cProfile.Profile], units: int, top: int = 10) -> str:
    """Top ``top`` functions by cumulative and by own time, and own time summed by area, per unit."""
    stats = pstats.Stats(profiles[0])
    for extra in profiles[1:]:
        stats.add(extra)
    table = stats.stats  # type: ignore[attr-defined]  # {(file, line, name): (cc, nc, tt, ct, callers)}
    lines = [f"where the station's CPU goes ({units} units under cProfile, slot threads' CPU, per unit):"]
    for index, title in ((3, "by cumulative time"), (2, "by own time")):
        lines.append(f"  top {top} {title}:")
        lines.append(f"    {'cum s':>8} {'own s':>8} {'calls':>8}  function")
        rows = sorted(table.items(), key=lambda item: item[1][index], reverse=True)[:top]
        for (filename, line, name), (_, calls, own, cumulative, _) in rows:
            lines.append(
                f"    {cumulative / units:8.4f} {own / units:8.4f} {calls / units:8.1f}  "
                f"{name} ({_short(filename)}:{line})"
            )
    lines.append("  own time by area:")
    areas = _by_area(table)  # own time of every function, attributed to areas
    total = sum(areas.values()) or 1.0
    for area, seconds in sorted(areas.items(), key=lambda item: item[1], reverse=True):
        lines.append(f"    {seconds / units:8.4f} s  {100 * seconds / total:4.0f} %  {area}")
    return "\n".join(lines)


def _by_area(table: dict[Key, Entry]) -> dict[str, float]:
    areas: dict[str, float] = defaultdict(float)
    memo: dict[Key, dict[str, float]] = {}
    for key, entry in table.items():
        for area, share in _shares(key, table, memo).items():
            areas[area] += entry[2] * share
    return dict(areas)


def _shares(key: Key, table: dict[Key, Entry], memo: dict[Key, dict[str, float]]) -> dict[str, float]:
    """Which areas a function's own time belongs to: its own, else its callers' (weighted by time)."""
    if key in memo:
        return memo[key]
    filename, _, name = key
    area = next((area for marker, area in AREAS if marker in f"{filename}:{name}"), None)
    memo[key] = {area or OTHER: 1.0}  # also what a recursive cycle back to this function sees
    callers: dict[Key, tuple[int, int, float, float]] = table[key][4] if key in table else {}
    weights = {caller: timing[2] for caller, timing in callers.items()}
    total = sum(weights.values())
    if area is None and total > 0:
        shares: dict[str, float] = defaultdict(float)
        for caller, weight in weights.items():
            for caller_area, share in _shares(caller, table, memo).items():
                shares[caller_area] += share * weight / total
        memo[key] = dict(shares)
    return memo[key]


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename
