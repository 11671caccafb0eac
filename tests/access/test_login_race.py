"""The PIN lockout under parallel logins (issue 15): threads and processes racing for one badge.

Every PIN check goes through a counting verifier that also sleeps, so the checks of a race overlap however
the machine schedules them (a real scrypt check takes about 0.1 s). Whatever the order, at most
MAX_FAILED_LOGINS wrong PINs are checked between a good login and the lock, every wrong PIN checked is
counted, and once the account is locked the right PIN is refused without being checked.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from station.access.audit import AuditLog, read_audit
from station.access.auditverify import verify_audit
from station.access.pins import Pin, hash_pin, verify_pin
from station.access.users import MAX_FAILED_LOGINS, UserStore
from station.core.errors import LoginRefused
from station.core.operator import Operator
from station.records.store.sqlite import SqliteStore
from tests.access.conftest import OPERATOR_PIN

LOGINS = 30
WRONG_PINS = [f"{700000 + index:06d}" for index in range(1, LOGINS)]  # 29 wrong PINs, then the right one
CHECK_TIME = 0.02  # seconds each counted check sleeps after scrypt: the checks of a race overlap


class CountingVerifier:
    """``verify_pin`` that counts right and wrong checks (thread-safe) and optionally waits on a hook."""

    def __init__(self, before: Callable[[bool], None] | None = None) -> None:
        self._lock = threading.Lock()
        self.checks: Counter[bool] = Counter()
        self._before = before

    def __call__(self, pin: Pin, stored: str) -> bool:
        right = verify_pin(pin, stored)
        if self._before is not None:
            self._before(right)
        time.sleep(CHECK_TIME)
        with self._lock:
            self.checks[right] += 1
        return right


@dataclass
class Race:
    """What a race did: each login's outcome ('ok' or the refusal's reason) and the checks it made."""

    outcomes: list[tuple[str, str]]  # (pin, outcome)
    wrong_checks: int
    right_checks: int

    @property
    def right_outcome(self) -> str:
        return next(outcome for pin, outcome in self.outcomes if pin == OPERATOR_PIN)


def _login(users: UserStore, pin: str) -> str:
    try:
        users.authenticate("B0042", Pin(pin))
    except LoginRefused as refused:
        return refused.reason
    return "ok"


def _race_threads(users: UserStore, verifier: CountingVerifier, pins: list[str]) -> Race:
    barrier = threading.Barrier(len(pins))
    outcomes: list[tuple[str, str]] = []
    guard = threading.Lock()

    def one(pin: str) -> None:
        barrier.wait()
        outcome = _login(users, pin)
        with guard:
            outcomes.append((pin, outcome))

    threads = [threading.Thread(target=one, args=(pin,)) for pin in pins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == len(pins)
    return Race(outcomes, verifier.checks[False], verifier.checks[True])


def _counting_users(users: UserStore, verifier: CountingVerifier) -> UserStore:
    return UserStore(users.audit, hasher=partial(hash_pin, n=2**10), verifier=verifier)


def check_race(users: UserStore, race: Race) -> None:
    """The lockout's promises, for a race of 29 wrong PINs and the right one in any order."""
    account = users.get("B0042")
    assert account is not None
    wrong_replies = [outcome for pin, outcome in race.outcomes if pin != OPERATOR_PIN]
    assert Counter(wrong_replies)["wrong-pin"] == race.wrong_checks  # a wrong PIN is refused once checked
    assert set(wrong_replies) <= {"wrong-pin", "locked"}
    failed = [
        entry.detail
        for entry in read_audit(users.store)
        if entry.action == "login-failed" and entry.detail["reason"] == "wrong-pin"
    ]
    assert len(failed) == race.wrong_checks
    places = sorted(detail["failed"] for detail in failed)  # each wrong PIN's place in the count
    if race.right_outcome == "ok":
        # The good login took a place among the first MAX_FAILED_LOGINS; the count keeps the wrong PINs
        # that came after it, and those are again at most MAX_FAILED_LOGINS.
        assert race.right_checks == 1
        before = race.wrong_checks - account.failed_logins
        assert 0 <= before < MAX_FAILED_LOGINS and account.failed_logins <= MAX_FAILED_LOGINS
        assert race.wrong_checks <= 2 * MAX_FAILED_LOGINS - 1
    else:
        # No good login: exactly MAX_FAILED_LOGINS wrong PINs were checked and counted, then the lock; the
        # right PIN was refused as locked without being checked.
        assert race.right_outcome == "locked" and race.right_checks == 0
        assert race.wrong_checks == account.failed_logins == MAX_FAILED_LOGINS
        assert places == list(range(1, MAX_FAILED_LOGINS + 1))
        assert account.locked_until is not None
        assert Counter(outcome for _, outcome in race.outcomes)["locked"] == LOGINS - MAX_FAILED_LOGINS


@pytest.mark.parametrize("right_at", [0, 7, 29])  # where its thread starts
def test_thirty_parallel_logins_in_threads_check_at_most_five_wrong_pins(
    users: UserStore, admin: Operator, right_at: int
) -> None:
    verifier = CountingVerifier()
    pins = [*WRONG_PINS[:right_at], OPERATOR_PIN, *WRONG_PINS[right_at:]]
    race = _race_threads(_counting_users(users, verifier), verifier, pins)
    check_race(users, race)
    if race.right_outcome != "ok":  # the account stays locked: the right PIN is refused, not checked
        with pytest.raises(LoginRefused) as after:
            _counting_users(users, verifier).authenticate("B0042", Pin(OPERATOR_PIN))
        assert after.value.reason == "locked" and verifier.checks[True] == 0


def test_a_lock_refuses_the_right_pin_without_checking_it(users: UserStore, admin: Operator) -> None:
    verifier = CountingVerifier()
    race = _race_threads(_counting_users(users, verifier), verifier, WRONG_PINS)
    assert race.wrong_checks == MAX_FAILED_LOGINS == users.get("B0042").failed_logins  # type: ignore[union-attr]
    assert Counter(outcome for _, outcome in race.outcomes)["locked"] == len(WRONG_PINS) - MAX_FAILED_LOGINS
    with pytest.raises(LoginRefused) as refused:
        _counting_users(users, verifier).authenticate("B0042", Pin(OPERATOR_PIN))
    assert refused.value.reason == "locked" and verifier.checks[True] == 0


def test_a_good_login_checked_while_wrong_pins_pile_up_keeps_them_counted(
    users: UserStore, admin: Operator
) -> None:
    """The right PIN takes the first place and is held in its check until every wrong PIN has its answer:
    four are checked (places 2-5), the one at place 5 locks the account, the rest are refused; the good
    login then counts the four that came after it, and the next wrong PIN locks."""
    others_done = threading.Event()
    right_checking = threading.Event()

    def hold_the_right_pin(right: bool) -> None:
        if right:
            right_checking.set()
            assert others_done.wait(timeout=120)

    verifier = CountingVerifier(before=hold_the_right_pin)
    racing = _counting_users(users, verifier)
    result: list[str] = []
    first = threading.Thread(target=lambda: result.append(_login(racing, OPERATOR_PIN)))
    first.start()
    assert right_checking.wait(timeout=120)
    race = _race_threads(racing, verifier, WRONG_PINS)
    others_done.set()
    first.join(timeout=120)
    assert result == ["ok"]
    assert race.wrong_checks == MAX_FAILED_LOGINS - 1
    assert Counter(outcome for _, outcome in race.outcomes)["locked"] == len(WRONG_PINS) - race.wrong_checks
    account = users.get("B0042")
    assert account is not None and (account.failed_logins, account.locked_until) == (
        MAX_FAILED_LOGINS - 1,
        None,
    )
    with pytest.raises(LoginRefused, match="now locked"):
        racing.authenticate("B0042", Pin("700099"))


def test_a_pin_changed_during_the_check_refuses_the_old_one(users: UserStore, admin: Operator) -> None:
    def change_the_pin(right: bool) -> None:
        users.set_pin("B0042", Pin("613370"), by=admin)

    racing = _counting_users(users, CountingVerifier(before=change_the_pin))
    with pytest.raises(LoginRefused, match="was changed during this login") as refused:
        racing.authenticate("B0042", Pin(OPERATOR_PIN))
    assert refused.value.reason == "pin-changed"
    assert users.get("B0042").failed_logins == 0  # type: ignore[union-attr]


def test_an_account_disabled_during_the_check_logs_nobody_in(users: UserStore, admin: Operator) -> None:
    def disable(right: bool) -> None:
        users.disable("B0042", by=admin)

    racing = _counting_users(users, CountingVerifier(before=disable))
    with pytest.raises(LoginRefused, match="B0042 is disabled") as refused:
        racing.authenticate("B0042", Pin(OPERATOR_PIN))
    assert refused.value.reason == "disabled"


# --- processes -----------------------------------------------------------------------------------------

PROCESSES = 3


def _process_logins(database: str, key: bytes, pins: list[str], channels: tuple[Any, Any, Any]) -> None:
    """One process's share of the race: its own store, audit log and counting verifier, one thread a PIN."""
    ready, start, results = channels
    verifier = CountingVerifier()
    audit = AuditLog(SqliteStore(database), Ed25519PrivateKey.from_private_bytes(key))
    users = UserStore(audit, verifier=verifier)
    ready.put(True)
    start.wait(timeout=120)
    race = _race_threads(users, verifier, pins)
    results.put((race.outcomes, race.wrong_checks, race.right_checks))


def test_thirty_parallel_logins_in_processes_check_at_most_five_wrong_pins(
    users: UserStore, admin: Operator, signing_key: Ed25519PrivateKey, trusted: dict[str, Ed25519PublicKey]
) -> None:
    key = signing_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    pins = [*WRONG_PINS[:14], OPERATOR_PIN, *WRONG_PINS[14:]]
    shares = [pins[index::PROCESSES] for index in range(PROCESSES)]
    context = multiprocessing.get_context("spawn")
    ready, results, start = context.Queue(), context.Queue(), context.Event()
    database = str(users.store.path)
    workers = [
        context.Process(target=_process_logins, args=(database, key, share, (ready, start, results)))
        for share in shares
    ]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            ready.get(timeout=120)
        start.set()
        parts = [results.get(timeout=120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=120)
    outcomes = [outcome for part in parts for outcome in part[0]]
    race = Race(outcomes, sum(part[1] for part in parts), sum(part[2] for part in parts))
    assert len(outcomes) == LOGINS
    check_race(users, race)
    report = verify_audit(read_audit(users.store), trusted)  # the processes' entries form one chain
    assert report.first is None and report.checked == len(read_audit(users.store))
