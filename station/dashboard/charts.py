"""Charts drawn on the server as SVG (a line PC reaches no internet): bars by hour, Pareto, yield by day.

>>> svg = pareto_chart([("Provisioning: refused", 3), ("Firmware: timeout", 1)], title="Failures")
>>> svg.startswith("<svg") and "75.0 %" in svg and "<title>Provisioning: refused: 3</title>" in svg
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from html import escape

from station.dashboard.windows import parse_time

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 220, 44, 40, 24
OUTCOMES = ("pass", "fail", "error", "aborted")
HOURS_AT_MOST = 24 * 7 + 1  # a week by hour


def _frame(title: str, body: list[str], height: int = HEIGHT) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )
    caption = f'<text class="chart-title" x="{LEFT}" y="16">{escape(title)}</text>'
    return head + caption + "".join(body) + "</svg>"


def _axis(top: int, height: int, top_y: int = TOP + 10) -> list[str]:
    y = height - BOTTOM
    return [
        f'<line class="axis" x1="{LEFT}" y1="{y}" x2="{WIDTH - 8}" y2="{y}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{top_y}" text-anchor="end">{top}</text>',
        f'<text class="tick" x="{LEFT - 6}" y="{y}" text-anchor="end">0</text>',
    ]


def hourly_bars(rows: Iterable[Sequence[object]], start: str, end: str, *, title: str) -> str:
    """Stacked bars of records per hour by outcome; ``rows``: (``YYYY-MM-DDTHH``, outcome, count)."""
    counts: dict[str, dict[str, int]] = {}
    for hour, outcome, count in rows:
        counts.setdefault(str(hour), {})[str(outcome)] = int(str(count))
    first = parse_time(start).replace(minute=0, second=0, microsecond=0)
    hours: list[str] = []
    moment = first
    while moment < parse_time(end) and len(hours) < HOURS_AT_MOST:
        hours.append(moment.strftime("%Y-%m-%dT%H"))
        moment += timedelta(hours=1)
    top = max([sum(c.values()) for c in counts.values()] + [1])
    plot = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT - 8) / max(len(hours), 1)
    body = _axis(top, HEIGHT)
    for index, hour in enumerate(hours):
        x, y = LEFT + index * step, float(HEIGHT - BOTTOM)
        here = counts.get(hour, {})
        for outcome in OUTCOMES:
            n = here.get(outcome, 0)
            if n:
                h = plot * n / top
                y -= h
                body.append(
                    f'<rect class="bar-{outcome}" x="{x + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
                    f'height="{h:.1f}"><title>{hour}:00 {outcome}: {n}</title></rect>'
                )
        if index % max(1, len(hours) // 8) == 0:
            body.append(
                f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}">{hour[5:10]} {hour[11:]}h</text>'
            )
    body.append(_legend(HEIGHT - 8))
    return _frame(title, body)


def _legend(y: int) -> str:
    words = {"pass": "✓ pass", "fail": "✗ fail", "error": "! error", "aborted": "- aborted"}
    return "".join(
        f'<rect class="bar-{o}" x="{LEFT + i * 110}" y="{y - 9}" width="10" height="10"/>'
        f'<text class="tick" x="{LEFT + i * 110 + 14}" y="{y}">{words[o]}</text>'
        for i, o in enumerate(OUTCOMES)
    )


def pareto_chart(items: Sequence[tuple[str, int]], *, title: str, kinds: Sequence[str] = ()) -> str:
    """Bars largest first with the cumulative share as a line (the Pareto of failure reasons); ``kinds``
    gives each bar's colour class (fail or error) where known."""
    total = sum(count for _, count in items) or 1
    shown = list(items[:12])
    height, base = HEIGHT + 70, HEIGHT - 10  # rotated labels below the base line
    plot = base - TOP - 22  # head room for the count above the tallest bar
    step = (WIDTH - LEFT - 8) / max(len(shown), 1)
    top = max([count for _, count in shown] + [1])
    body = _axis(top, base + BOTTOM, base - plot + 4)
    points, running = [], 0
    for index, (label, count) in enumerate(shown):
        running += count
        x, h = LEFT + index * step, plot * count / top
        kind = kinds[index] if index < len(kinds) else "fail"
        body.append(
            f'<rect class="bar-{kind}" x="{x + 2:.1f}" y="{base - h:.1f}" width="{max(step - 4, 1):.1f}" '
            f'height="{h:.1f}"><title>{escape(label)}: {count}</title></rect>'
            f'<text class="tick" x="{x + step / 2:.1f}" y="{base - h - 4:.1f}" '
            f'text-anchor="middle">{count}</text>'
            f'<text class="tick" x="{x + 4:.1f}" y="{base + 14}" '
            f'transform="rotate(20 {x + 4:.1f} {base + 14})">{escape(label[:28])}</text>'
        )
        cy = base - plot * running / total
        points.append(f"{x + step / 2:.1f},{cy:.1f}")
        body.append(
            f'<circle class="cumulative" cx="{x + step / 2:.1f}" cy="{cy:.1f}" r="3">'
            f"<title>cumulative {100 * running / total:.1f} %</title></circle>"
        )
    if points:
        body.append(f'<polyline class="cumulative" fill="none" points="{" ".join(points)}"/>')
        body.append(
            f'<text class="tick" x="{LEFT}" y="{height - 6}">bars: failures per step and code; '
            f"line: cumulative share ({100 * running / total:.1f} % of {total} with the bars shown)</text>"
        )
    return _frame(title, body, height)


def yield_bars(items: Sequence[tuple[str, int, int]], *, title: str) -> str:
    """Horizontal bars of first-pass yield; ``items``: (label, passed, units)."""
    shown = list(items[:20])
    height = TOP + 20 + 22 * max(len(shown), 1)
    body = []
    for index, (label, passed, units) in enumerate(shown):
        y = TOP + 10 + index * 22
        share = passed / units if units else 0.0
        width = (WIDTH - 330) * share  # room for "100.0 % of N" after the longest bar
        body.append(
            f'<text class="tick" x="8" y="{y + 13}">{escape(label[:30])}</text>'
            f'<rect class="bar-pass" x="200" y="{y}" width="{width:.1f}" height="16">'
            f"<title>{escape(label)}: {passed} of {units} passed first time</title></rect>"
            f'<text class="tick" x="{204 + width:.1f}" y="{y + 13}">{100 * share:.1f} % of {units}</text>'
        )
    return _frame(title, body, height)
