"""The one way to run a unit of work in a transaction and run it again when a concurrent one won.

Two writers touching the same documents at once (two analyzers, two benches validating one order, an
import racing an edit) make the database abort one transaction. Nothing of the aborted attempt is
kept, so the work can run again from its reads and see the winner's writes: ``run_in_transaction``
does that a bounded number of times, with a short random pause (so the losers do not collide again
in step), and then gives up with ``RetriesExhausted`` (a ``WriteConflict``: 409, HL7 AE 206).

What is retried is what a concurrent writer causes, and nothing else:

- ``WriteConflict`` (the store's ``TransactionConflict`` among them) and a driver error labelled
  ``TransientTransactionError`` that is not a lost connection;
- ``DuplicateKeyError``: a unique index refused a key another transaction committed meanwhile (the
  analyzer result ledger relies on it: the next attempt finds the key and writes nothing);
- the extra classes a caller names (``also``): e.g. ``PreconditionFailed`` when the work read a version
  before its transaction.

A database that does not answer (``ConnectionFailure``) is never retried here: the attempt's outcome
may be unknown, the caller answers 503 / AE and the sender resends (made safe by idempotency).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar

from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError

from resources.errors import WriteConflict
from resources.store.base import StoreSession

__all__ = ["DEFAULT_ATTEMPTS", "RetriesExhausted", "retry_conflicts", "run_in_transaction"]

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_ATTEMPTS = 5
PAUSE_S = 0.02
"""Upper bound of the random pause before attempt n+1 is ``PAUSE_S * n``."""


class Transactional(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[StoreSession]: ...


class RetriesExhausted(WriteConflict):
    """Every attempt lost to a concurrent writer; nothing of any attempt was committed."""

    def __init__(self, what: str, attempts: int, last: BaseException, expression: str | None = None) -> None:
        reason = getattr(last, "diagnostics", None) or str(last) or type(last).__name__
        super().__init__(f"{what}: still conflicting with concurrent writers after {attempts} attempts "
                         f"({reason}); nothing was written, retry",
                         expression=expression or getattr(last, "expression", None) or None)
        self.attempts = attempts


def is_conflict(exc: BaseException, also: tuple[type[BaseException], ...] = ()) -> bool:
    """True for what a concurrent writer causes (see the module docstring), False for everything else."""
    if isinstance(exc, ConnectionFailure):
        return False
    if isinstance(exc, (WriteConflict, DuplicateKeyError, *also)):
        return True
    return isinstance(exc, PyMongoError) and exc.has_error_label("TransientTransactionError")


async def retry_conflicts(attempt: Callable[[], Awaitable[T]], attempts: int = DEFAULT_ATTEMPTS, *,
                          what: str = "transaction", also: tuple[type[BaseException], ...] = (),
                          expression: str | None = None, pause_s: float = PAUSE_S) -> T:
    """Await ``attempt()`` until it does not lose to a concurrent writer, at most ``attempts`` times.

    For work that opens its own transaction (a validation step reads, checks, then writes); any other
    error propagates at once. ``pause_s`` bounds the random pause before attempt n+1 at ``pause_s * n``:
    work whose rival holds a long transaction waits longer, so its retry sees the rival's commit."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for n in range(1, attempts + 1):
        try:
            return await attempt()
        except Exception as exc:
            if not is_conflict(exc, also):
                raise
            if n == attempts:
                raise RetriesExhausted(what, attempts, exc, expression) from exc
            log.info("%s: attempt %d of %d lost to a concurrent writer (%s)", what, n, attempts, type(exc).__name__)
            await asyncio.sleep(random.uniform(0, pause_s * n))
    raise AssertionError("unreachable")


async def run_in_transaction(store: Transactional, fn: Callable[[StoreSession], Awaitable[T]],
                             attempts: int = DEFAULT_ATTEMPTS, *, what: str = "transaction",
                             also: tuple[type[BaseException], ...] = (), expression: str | None = None) -> T:
    """``fn(session)`` inside one transaction, committed before this returns; run again from the start
    in a fresh transaction when it (or its commit) lost to a concurrent writer. ``expression`` is the
    FHIRPath (or HL7 location) the final ``RetriesExhausted`` names, by default the last conflict's."""
    async def once() -> T:
        async with store.transaction() as session:
            return await fn(session)
    return await retry_conflicts(once, attempts, what=what, also=also, expression=expression)
