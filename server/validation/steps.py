"""One validation step = one transaction: every write of the step commits together or not at all.

``workflow_step`` opens the store transaction and stamps the step's name on every write intent of
the step (``WriteIntent.step``), which is what lets write_rules.py tell a validation operation from a
plain PUT on a final result.
``StepWriter`` goes through the FHIR interactions (model validation, every workflow's write rules,
``If-Match`` on the version read) and remembers what it wrote for the step's Provenance.

Two steps touching the same resources at once (two benches validating results of one order)
conflict: the database aborts one transaction (``TransientTransactionError``) or a version check
fails. ``retried`` runs such a step again from its reads (the store's ``retry_conflicts``), a few
times, so the caller sees either the result or the rule the new state breaks (e.g. "already
validated"), and 409 only if the conflict persists.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from pymongo.errors import PyMongoError

from resources import interactions
from resources.errors import Conflict
from resources.interactions import WriteRule, stamped
from resources.store.base import FhirStore, Stored, StoreSession
from resources.store.transactions import retry_conflicts

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
STEP_ATTEMPTS = 4

@dataclass
class StepWriter:
    store: FhirStore
    write_rule: WriteRule | None
    session: StoreSession | None
    written: list[Stored] = field(default_factory=list)

    async def update(self, resource: dict[str, Any]) -> dict[str, Any]:
        """Write a new version of a resource read at ``meta.versionId``, or the first version of one
        without it (412/409 if it moved or appeared since)."""
        vid = (resource.get("meta") or {}).get("versionId") or "0"
        outcome = await interactions.update(self.store, resource["resourceType"], resource["id"], resource,
                                            if_match=f'W/"{vid}"', session=self.session, write_rule=self.write_rule)
        return self._keep(outcome.stored)

    async def create(self, resource: dict[str, Any], *, if_none_exist: str | None = None) -> dict[str, Any]:
        outcome = await interactions.create(self.store, resource["resourceType"], resource,
                                            if_none_exist=if_none_exist, session=self.session,
                                            write_rule=self.write_rule)
        return self._keep(outcome.stored)

    def _keep(self, stored: Stored | None) -> dict[str, Any]:
        assert stored is not None and stored.resource is not None  # interactions always return what they wrote
        self.written = [s for s in self.written if (s.resource_type, s.id) != (stored.resource_type, stored.id)]
        self.written.append(stored)
        return stored.resource


@asynccontextmanager
async def workflow_step(store: FhirStore, write_rule: WriteRule | None, name: str) -> AsyncIterator[StepWriter]:
    try:
        async with store.transaction() as session:
            yield StepWriter(store, stamped(write_rule, step=name), session)
    except PyMongoError as exc:
        if not exc.has_error_label("TransientTransactionError"):
            raise
        raise Conflict(f"{name} conflicted with a concurrent change; retry") from exc


def retried(step: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Run a whole step (reads, checks, transaction) again when it lost a race with another one."""
    @functools.wraps(step)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return await retry_conflicts(lambda: step(*args, **kwargs), STEP_ATTEMPTS, what=step.__name__,
                                     also=(Conflict,))
    return run
