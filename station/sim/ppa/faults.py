"""Fault plans: make a simulated unit misbehave the way real units and cables do, deterministically.

>>> faults = parse_spec("seed=7; 500 method=POST times=1; delay p=0.1 s=2.5 path=/api/auth/*").for_device(0)
>>> faults.pick("POST", "/api/system/config").kind, faults.pick("POST", "/api/system/config")   # once only
('500', None)
>>> parse_spec("explode p=0.5")
Traceback (most recent call last):
station.core.errors.ConfigError: unknown fault kind 'explode'; choose one of drop, delay, ...
"""

from __future__ import annotations

import fnmatch
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from station.core.errors import ConfigError

_N = TypeVar("_N", int, float)

KINDS = (
    "drop",
    "delay",
    "stall",
    "500",
    "garbage",
    "unplug",
    "hang_under_load",
    "kat_fail",
    "entropy_fail",
    "se_fault",
)
# Faults of the unit's own tasks, not of one reply: ``slow_boot`` makes the restart that a matching request
# (reboot, install_fw, wipe-out) starts take ``s`` seconds (default 4x the profile's: a 60 s install).
TASK_KINDS = ("slow_boot",)
_KEYS = {"p", "s", "path", "method", "times", "skip", "replug", "n"}
# ``hang_under_load`` defaults. Firmware 1.2.2 hangs under sustained request load until it is power-cycled
# (C SDK known issues); clients that keep >= 150 ms between requests (at most 7 in any second) survived,
# back-to-back traffic did not. So: more than 8 requests a second, kept up for 10 s, hangs the unit.
HANG_RATE = 8
HANG_SECONDS = 10.0
LOAD = "hang_under_load"  # not a per-request rule: a condition on the rate of all requests
# Conditions of the unit, not of a request: the self-test's KAT fails (latches fls_state 0x01), its entropy
# test fails (0x02), the secure element reports an unhealthy se_state (routes/system.py selftest).
CONDITIONS = (LOAD, "kat_fail", "entropy_fail", "se_fault")


@dataclass
class FaultRule:
    """One rule. ``times`` counts down each time the rule fires; None means unlimited."""

    kind: str
    path: str = "*"
    method: str | None = None
    probability: float = 1.0
    times: int | None = None
    seconds: float = 0.0
    replug_after: float | None = None
    skip: int = 0
    rate: int | None = None  # hang_under_load: more than ``rate`` requests a second for ``seconds`` seconds

    def __post_init__(self) -> None:
        if self.kind not in KINDS + TASK_KINDS:
            choices = ", ".join(KINDS + TASK_KINDS)
            raise ConfigError(f"unknown fault kind {self.kind!r}; choose one of {choices}")
        if not 0.0 <= self.probability <= 1.0:
            raise ConfigError(f"fault probability {self.probability} is not between 0 and 1")
        if self.kind == LOAD:
            self.rate = HANG_RATE if self.rate is None else self.rate
            self.seconds = self.seconds or HANG_SECONDS
            if self.rate < 1 or self.seconds <= 0:
                raise ConfigError(f"{LOAD} needs n >= 1 (requests a second) and s > 0 (seconds)")

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        return fnmatch.fnmatchcase(path, self.path)


@dataclass
class FaultPlan:
    """Rules plus the seed that makes their coin flips reproducible."""

    rules: list[FaultRule] = field(default_factory=list)
    seed: int = 0

    def for_device(self, slot: int) -> FaultInjector:
        fresh = [FaultRule(**vars(rule)) for rule in self.rules]  # each device counts its own `times`
        return FaultInjector(fresh, random.Random(f"{self.seed}:{slot}"))  # noqa: S311 - test faults, not crypto


class FaultInjector:
    """The per-device, thread-safe state of a plan: the rng and the remaining counts."""

    def __init__(self, rules: list[FaultRule], rng: random.Random) -> None:
        self.rules = rules
        self._rng = rng
        self._lock = threading.Lock()
        self._arrivals: deque[float] = deque()  # request times within the load rule's window

    def add(self, rule: FaultRule) -> None:
        """Add a rule at run time (tests aim a fault at one step of one device)."""
        with self._lock:
            self.rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self._arrivals.clear()

    def overloaded(self, now: float) -> bool:
        """Count a request arriving at ``now``; True when a ``hang_under_load`` rule's limit is passed:
        more than ``rate * seconds`` requests within the last ``seconds`` (an average above ``rate`` a
        second, kept up for that long)."""
        with self._lock:
            rule = next((r for r in self.rules if r.kind == LOAD), None)
            if rule is None or rule.rate is None:
                return False
            self._arrivals.append(now)
            while self._arrivals and self._arrivals[0] <= now - rule.seconds:
                self._arrivals.popleft()
            return len(self._arrivals) > rule.rate * rule.seconds

    def holds(self, kind: str) -> bool:
        """Whether a condition rule of ``kind`` (``CONDITIONS``) is in the plan."""
        with self._lock:
            return any(rule.kind == kind for rule in self.rules)

    def rested(self) -> None:
        """Forget the requests counted so far (a power cycle: the unit starts afresh)."""
        with self._lock:
            self._arrivals.clear()

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The first matching rule whose coin flip fires, with its count used up; or None (task faults are
        never picked here: ``task`` asks for them when the unit starts a task)."""
        return self._first(
            lambda rule: rule.kind not in TASK_KINDS + CONDITIONS and rule.matches(method, path)
        )

    def task(self, kind: str, method: str, path: str) -> FaultRule | None:
        """The first ``kind`` task fault matching the request that starts the task and firing; or None."""
        return self._first(lambda rule: rule.kind == kind and rule.matches(method, path))

    def _first(self, candidate: Callable[[FaultRule], bool]) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if not candidate(rule):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                if self._rng.random() < rule.probability:
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None


def parse_spec(spec: str) -> FaultPlan:
    """Parse the ``--faults`` syntax above; errors name the offending rule and what is allowed."""
    plan = FaultPlan()
    for raw in filter(None, (part.strip() for part in spec.split(";"))):
        tokens = raw.split()
        if tokens[0].startswith("seed="):
            plan.seed = _number(raw, tokens[0][5:], int)
            continue
        kind, options = tokens[0], {}
        for token in tokens[1:]:
            key, sep, value = token.partition("=")
            if not sep or key not in _KEYS:
                raise ConfigError(f"fault rule {raw!r}: unknown option {token!r}; allowed: {sorted(_KEYS)}")
            options[key] = value
        plan.rules.append(
            FaultRule(
                kind=kind,
                path=options.get("path", "*"),
                method=options.get("method"),
                probability=_number(raw, options.get("p", "1"), float),
                times=_number(raw, options["times"], int) if "times" in options else None,
                seconds=_number(raw, options.get("s", "0"), float),
                replug_after=_number(raw, options["replug"], float) if "replug" in options else None,
                skip=_number(raw, options.get("skip", "0"), int),
                rate=_number(raw, options["n"], int) if "n" in options else None,
            )
        )
    return plan


def _number(rule: str, text: str, kind: type[_N]) -> _N:
    try:
        return kind(text)
    except ValueError:
        raise ConfigError(f"fault rule {rule!r}: {text!r} is not a valid {kind.__name__}") from None
