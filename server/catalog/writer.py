"""Write catalogue resources inside a transaction, each pinned to the version that was read.

The seed writes every resource "where none exists yet" (version 0); an import or a manual edit
writes the resources ``changed_resources`` lists, each at the version ``read_catalog`` saw. A
resource that moved in between makes the whole write fail with ``StaleLoincChange`` (409), and
the caller's transaction rolls everything back. A write conflict with a concurrent transaction is
left to the caller's ``run_in_transaction``, which runs the whole read-change-write again. Writes go
through the interactions with the caller's write rule, so workflow rules see catalogue writes like
any other; each write intent carries ``CATALOGUE_STEP``, which is what lets a LOINC change through
(``write_rules.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from resources import interactions
from resources.errors import PreconditionFailed
from resources.interactions import ReferenceCheck, WriteRule, stamped
from resources.store.base import FhirStore, Stored, StoreSession
from server.access.caller import Caller
from server.catalog.write_rules import CATALOGUE_STEP
from server.write_rules import WriteRules
from terminology import StaleLoincChange

__all__ = ["Progress", "caller_write_rule", "write_pinned"]

Progress = Callable[[int], None]
"""Called with the number of resources just written (drives the CLI progress bar)."""


def caller_write_rule(write_rules: WriteRules, caller: Caller) -> WriteRule:
    """The write rules of a caller that is not an HTTP request (start-up: the system; CLI: the operator)."""
    return write_rules.for_caller(caller)


async def write_pinned(store: FhirStore, resources: list[dict[str, Any]], versions: Mapping[tuple[str, str], int],
                       *, write_rule: WriteRule, session: StoreSession | None,
                       progress: Progress | None = None) -> list[Stored]:
    """Write ``resources`` in ``session``; each must still be at ``versions[(type, id)]`` (absent: 0).
    Returns the versions written (what the Provenance of an edit names)."""
    written: list[Stored] = []
    change_rule = stamped(write_rule, step=CATALOGUE_STEP)
    # in a transaction, the resources may name one another in any order: their references are looked up last
    refs = ReferenceCheck(deferred=session is not None)
    for resource in resources:
        rtype, rid = resource["resourceType"], resource["id"]
        expected = versions.get((rtype, rid), 0)
        try:
            outcome = await interactions.update(store, rtype, rid, resource, if_match=f'W/"{expected}"',
                                                session=session, write_rule=change_rule, references=refs)
        except PreconditionFailed as exc:
            raise StaleLoincChange(f"{rtype}/{rid} changed since the catalogue was read (expected version "
                                   f"{expected}); nothing was written, read the catalogue again",
                                   expression=f"{rtype}/{rid}") from exc
        if outcome.stored is not None:
            written.append(outcome.stored)
        if progress is not None:
            progress(1)
    await refs.verify(store, session)
    return written
