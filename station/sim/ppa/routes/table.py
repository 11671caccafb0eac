"""One route of the simulated unit: method, full-match path pattern, handler and timing class.

>>> read = route("GET", r"/api/logger/(?P<id>[0-9a-f]{8})", lambda unit, request, match: None)
>>> read.pattern.fullmatch("/api/logger/0000002a")["id"], read.pattern.fullmatch("/api/logger/x"), read.cost
('0000002a', None, 'simple')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from station.sim.ppa.http import Request, Response
from station.sim.ppa.unit import Unit

Handler = Callable[[Unit, Request, re.Match[str]], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    cost: str = "simple"  # the timing class (``timing.py``) that delays the reply


def route(method: str, pattern: str, handler: Handler, cost: str = "simple") -> Route:
    return Route(method, re.compile(pattern), handler, cost)
