"""Checking a long chain on every core: each record's own checks in worker processes, placed in order.

>>> from station.records.check.chain import ChainVerifier
>>> verifier = ChainVerifier(trusted_keys={})
>>> [outcome.reason for _, outcome in checked_in_order(["not.a.record"], str, verifier)]   # short: here
['malformed JWS: ...']
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import chain, islice
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.core.codec import ed25519_public_raw
from station.records.check.chain import CertificateCache, ChainVerifier, Outcome, check_record

log = logging.getLogger(__name__)
Item = TypeVar("Item")
CHUNK = 500  # records per task: large enough that sending them costs little next to checking them
FANOUT_AFTER = 2_000  # a chain no longer than this is checked here: workers take ~0.3 s each to start


def workers_available() -> int:
    """How many processes may check records: the cores this process may run on; 1 in a frozen build
    (a PyInstaller executable cannot start Python workers the usual way)."""
    if getattr(sys, "frozen", False):
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def checked_in_order(
    items: Iterable[Item],
    text_of: Callable[[Item], str],
    verifier: ChainVerifier,
    *,
    workers: int | None = None,
    fanout_after: int | None = None,
) -> Generator[tuple[Item, Outcome], None, None]:
    """Each item with the outcome of ``check_record`` on its text, in the order of ``items``.

    Up to ``fanout_after`` items (default ``FANOUT_AFTER``) are checked in this process. A longer
    input, with more than one core, goes to ``workers`` processes (default: every core) in chunks from
    its first item on: the pool starts at once, and this process checks the first chunk itself while
    the workers start. Feed the outcomes to ``verifier.place`` in the order they come.
    """
    workers = workers_available() if workers is None else workers
    fanout_after = FANOUT_AFTER if fanout_after is None else fanout_after
    source = iter(items)
    head = list(islice(source, fanout_after + 1))
    if workers < 2 or len(head) <= fanout_after:  # one core, or short: not worth starting workers
        for item in chain(head, source):
            yield item, _here(text_of(item), verifier)
        return
    yield from _fanned_out(chain(head, source), text_of, verifier, workers)


def _fanned_out(
    source: Iterator[Item],
    text_of: Callable[[Item], str],
    verifier: ChainVerifier,
    workers: int,
) -> Generator[tuple[Item, Outcome], None, None]:
    keys = {kid: ed25519_public_raw(key) for kid, key in verifier.trusted_keys.items()}
    ca = verifier.ca_certificate
    ca_der = None if ca is None else ca.public_bytes(serialization.Encoding.DER)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),  # safe beside threads, unlike fork
        initializer=_start_worker,
        initargs=(keys, ca_der),
    )
    in_flight: deque[tuple[list[Item], Future[list[Outcome]]]] = deque()
    first = list(islice(source, CHUNK))  # checked here while the workers start on the chunks after it
    chunk: list[Item] = list(islice(source, CHUNK))

    def send() -> None:
        """Keep two chunks per worker in flight, reading on while they check; ``chunk`` is the next
        one not sent (empty at the end), also when a submit fails."""
        nonlocal chunk
        while chunk and len(in_flight) < 2 * workers:
            future = pool.submit(_check_texts, [text_of(item) for item in chunk])
            in_flight.append((chunk, future))
            chunk = list(islice(source, CHUNK))

    try:
        send()
        for item in first:
            yield item, _here(text_of(item), verifier)
        first = []
        while in_flight:
            items, future = in_flight[0]
            outcomes = future.result()
            in_flight.popleft()
            send()
            yield from zip(items, outcomes, strict=True)
    except (BrokenProcessPool, OSError) as exc:  # no worker could start, or one died: finish here
        log.warning("records checked in this process only: the worker processes failed (%s)", exc)
        unsent = chain(first, *(items for items, _ in in_flight), chunk, source)
        yield from ((item, _here(text_of(item), verifier)) for item in unsent)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_worker: list[tuple[Mapping[str, Ed25519PublicKey], CertificateCache]] = []  # a worker's keys and CA


def _start_worker(keys: Mapping[str, bytes], ca_der: bytes | None) -> None:
    trusted = {kid: Ed25519PublicKey.from_public_bytes(raw) for kid, raw in keys.items()}
    ca = None if ca_der is None else x509.load_der_x509_certificate(ca_der)
    _worker[:] = [(trusted, CertificateCache(ca))]


def _check_texts(texts: list[str]) -> list[Outcome]:
    (
        trusted,
        certificates,
    ) = _worker[0]
    return [check_record(text, trusted, certificates, typed=False)[0] for text in texts]


def _here(text: str, verifier: ChainVerifier) -> Outcome:
    return check_record(text, verifier.trusted_keys, verifier.certificates, typed=False)[0]
