"""One route of the simulated unit: method, full-match path pattern, handler and timing class.

Example::

    ROUTES = [route("GET", r"/api/system/status", status)]   # in each area's module

A handler is ``handler(unit, request, match) -> Response``; ``unit`` is the ``Unit`` protocol, so the
area modules and the device that dispatches to them do not import each other.
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
