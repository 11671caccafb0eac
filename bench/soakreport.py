"""The soak's printed figures: a row per sample, then growth after the warm-up against the targets.

Example::

    print(table(samples))                       # units, seconds, RSS MB, descriptors, threads (or row())
    print(growth_report(samples, warmup=1000))  # growth from the warm-up row to the last, and the verdict

Growth is the last row minus the first row at or after the warm-up (what the issue asks), with the
least-squares slope per 1 000 units beside it: a slope near zero with a positive difference is noise
(a late allocation burst), a steady slope is a leak whatever the difference says.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

RSS_TARGET_MB = 20.0  # issue 9: memory growth after the warm-up stays under this
MIB = 1024.0


@dataclass(frozen=True)
class Sample:
    units: int
    seconds: float
    rss_kib: int
    descriptors: int
    threads: int

    @property
    def rss_mb(self) -> float:
        return self.rss_kib / MIB


HEADER = f"  {'units':>7}  {'seconds':>8}  {'RSS MB':>8}  {'FDs':>5}  {'threads':>7}"


def row(sample: Sample) -> str:
    s = sample
    return f"  {s.units:>7}  {s.seconds:>8.1f}  {s.rss_mb:>8.1f}  {s.descriptors:>5}  {s.threads:>7}"


def table(samples: Sequence[Sample]) -> str:
    return "\n".join([HEADER, *(row(s) for s in samples)])


def baseline(samples: Sequence[Sample], warmup: int) -> Sample:
    """The first row at or after the warm-up (the last row if the run was shorter)."""
    return next((s for s in samples if s.units >= warmup), samples[-1])


def slope_per_1000(samples: Sequence[Sample], value: str) -> float | None:
    """Least-squares growth of ``value`` per 1 000 units over ``samples`` (None with fewer than 3)."""
    if len(samples) < 3:
        return None
    xs = [float(s.units) for s in samples]
    ys = [float(getattr(s, value)) for s in samples]
    fit = statistics.linear_regression(xs, ys)
    return fit.slope * 1000.0


def growth_report(samples: Sequence[Sample], warmup: int) -> str:
    """Growth after the warm-up for memory, descriptors and threads, each beside its target."""
    start, end = baseline(samples, warmup), samples[-1]
    judged = [s for s in samples if s.units >= start.units]
    rss = end.rss_mb - start.rss_mb
    fds = end.descriptors - start.descriptors
    threads = end.threads - start.threads
    rss_slope = slope_per_1000(judged, "rss_mb")
    fd_slope = slope_per_1000(judged, "descriptors")
    units = end.units - start.units
    lines = [
        f"Growth after the warm-up (units {start.units} → {end.units}, {units} units, "
        f"{units / max(end.seconds - start.seconds, 1e-9):.1f} units/s):",
        f"  memory (RSS)   {rss:+8.1f} MB  ({start.rss_mb:.1f} → {end.rss_mb:.1f} MB"
        f"{_slope(rss_slope, 'MB')}); target < {RSS_TARGET_MB:g} MB: {_met(rss < RSS_TARGET_MB)}",
        f"  descriptors    {fds:+8d}     ({start.descriptors} → {end.descriptors}"
        f"{_slope(fd_slope, '')}); target: no growth: {_met(fds <= 0)}",
        f"  threads        {threads:+8d}     ({start.threads} → {end.threads}); no target, shown for leaks",
    ]
    if units > 0:
        lines.append(f"  memory per unit after the warm-up: {rss * MIB * MIB / units:+.0f} bytes")
    return "\n".join(lines)


def _slope(slope: float | None, unit: str) -> str:
    if slope is None:
        return ""
    return f"; fitted {slope:+.2f}{(' ' + unit) if unit else ''} per 1 000 units"


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"
