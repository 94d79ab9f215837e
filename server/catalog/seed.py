"""First start: load the shipped demo catalogue into an empty store, in one transaction.

Runs from ``server/wiring.py`` ``run_startup`` (and before any ``sgl catalog`` command). When the local
catalogue ``CodeSystem`` is already stored it writes nothing, so a restart never duplicates or
re-versions the catalogue, and a lab's own edits are never overwritten by the seed. Either every
resource of the catalogue is written or none is; if another process seeds the same database at
the same moment, one of them wins and the other writes nothing: the loser's retries can run out while
the winner's large transaction is still open (several ``sgl serve`` started together on a new database), so
it then waits for the winner's catalogue to appear (``PEER_WAIT_S``) before trying once more.
"""

from __future__ import annotations

import asyncio
import logging
import time

from resources.interactions import WriteRule
from resources.store.base import FhirStore, StoreSession
from resources.store.transactions import RetriesExhausted, run_in_transaction
from server.access.caller import system
from server.catalog.writer import Progress, caller_write_rule, write_pinned
from server.context import AppContext
from server.stored_catalog import catalog_present
from terminology import Catalog, StaleLoincChange, catalog_to_fhir, load_seed_catalog

__all__ = ["run_seed", "seed_catalog"]

log = logging.getLogger(__name__)
PEER_WAIT_S = 120.0
"""How long a process that lost the seed to another one waits for that one's catalogue."""


async def _peer_seeded(store: FhirStore, wait: float) -> bool:
    end = time.monotonic() + wait
    while time.monotonic() < end:
        if await catalog_present(store):
            return True
        await asyncio.sleep(0.5)
    return False


async def seed_catalog(store: FhirStore, *, write_rule: WriteRule, catalog: Catalog | None = None,
                       progress: Progress | None = None) -> int:
    """Write ``catalog`` (default: the seed) if no catalogue is stored; return how many resources were written."""
    catalog = catalog or load_seed_catalog()
    resources = catalog_to_fhir(catalog)

    async def write(session: StoreSession) -> bool:
        if await catalog_present(store, session=session):
            return False
        await write_pinned(store, resources, {}, write_rule=write_rule, session=session, progress=progress)
        return True
    try:
        try:
            written = await run_in_transaction(store, write, what="seed catalogue")
        except RetriesExhausted:
            log.info("seed catalogue: another process is seeding the same database; waiting for it")
            if await _peer_seeded(store, PEER_WAIT_S):
                log.info("analysis catalogue loaded by another process meanwhile: seed not loaded")
                return 0
            written = await run_in_transaction(store, write, what="seed catalogue")
    except StaleLoincChange:
        log.info("analysis catalogue loaded by another process meanwhile: seed not loaded")
        return 0
    if not written:
        log.info("analysis catalogue already stored: seed not loaded")
        return 0
    log.info("seed analysis catalogue loaded: %d chapters, %d analyses, %d exams, %d analyzers (%d FHIR resources)",
             len(catalog.chapters), len(catalog.analyses), len(catalog.exams), len(catalog.analyzers),
             len(resources))
    return len(resources)


async def run_seed(ctx: AppContext) -> None:
    """The start-up step (``server/wiring.py`` ``run_startup``)."""
    await seed_catalog(ctx.store, write_rule=caller_write_rule(ctx.write_rules, system("seed")))
