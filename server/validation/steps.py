"""One validation step = one transaction: every write of the step commits together or not at all.

``workflow_step`` opens the store transaction and marks the running task as inside a workflow
step, which is what lets guard.py tell a validation operation from a plain PUT on a final result.
``StepWriter`` goes through the FHIR interactions (model validation, every workflow's guards,
``If-Match`` on the version read) and remembers what it wrote for the step's Provenance.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from resources import interactions
from resources.interactions import WriteGuard
from resources.store.base import FhirStore, Stored

_ACTIVE_STEP: ContextVar[str | None] = ContextVar("validation_step", default=None)


def active_step() -> str | None:
    """The validation step running in this task, if any."""
    return _ACTIVE_STEP.get()


@dataclass
class StepWriter:
    store: FhirStore
    guard: WriteGuard | None
    session: Any
    written: list[Stored] = field(default_factory=list)

    async def update(self, resource: dict[str, Any]) -> dict[str, Any]:
        """Write a new version of a resource read at ``meta.versionId`` (412/409 if it moved since)."""
        vid = (resource.get("meta") or {}).get("versionId")
        outcome = await interactions.update(self.store, resource["resourceType"], resource["id"], resource,
                                            if_match=f'W/"{vid}"' if vid else None, session=self.session,
                                            guard=self.guard)
        return self._keep(outcome.stored)

    async def create(self, resource: dict[str, Any], *, if_none_exist: str | None = None) -> dict[str, Any]:
        outcome = await interactions.create(self.store, resource["resourceType"], resource,
                                            if_none_exist=if_none_exist, session=self.session, guard=self.guard)
        return self._keep(outcome.stored)

    def _keep(self, stored: Stored | None) -> dict[str, Any]:
        assert stored is not None and stored.resource is not None  # interactions always return what they wrote
        self.written = [s for s in self.written if (s.resource_type, s.id) != (stored.resource_type, stored.id)]
        self.written.append(stored)
        return stored.resource

    def latest(self, resource_type: str, rid: str) -> dict[str, Any] | None:
        """The version this step wrote, for reads that do not see the open transaction."""
        return next((s.resource for s in self.written if (s.resource_type, s.id) == (resource_type, rid)), None)


@asynccontextmanager
async def workflow_step(store: FhirStore, guard: WriteGuard | None, name: str) -> AsyncIterator[StepWriter]:
    token = _ACTIVE_STEP.set(name)
    try:
        async with store.transaction() as session:
            yield StepWriter(store, guard, session)
    finally:
        _ACTIVE_STEP.reset(token)
