"""Manual edit of one LOINC code (SGL.LOI.08), keeping its creation and modification dates (SGL.LOI.09).

The element may be a chapter or a sub-chapter (addressed through ``CodeSystem/catalogue`` and a
local ``concept`` code), an exam (``ActivityDefinition/exam-<code>``) or an analysis
(``ObservationDefinition/analysis-<code>``). The edit is checked like an imported code
(``terminology.manual_change``: format, check digit, known element), then written in one
transaction with every resource it touches (the element's definition, the ``CodeSystem`` and the
``ConceptMap``). Dates: a first code is created and modified now; a different code keeps its
``created`` date and moves ``modified``; the same code again changes nothing. Each replaced code
stays readable in the resource history (``_history``), one version per edit.
"""

from __future__ import annotations

from datetime import UTC, datetime

from resources.errors import NotFound, PreconditionFailed
from resources.interactions import WriteRule
from resources.store.base import FhirStore, Stored, StoreSession
from resources.store.transactions import run_in_transaction
from server.access.caller import Caller
from server.audit import provenance
from server.catalog.writer import write_pinned
from server.stored_catalog import read_catalog
from terminology import Catalog, Target, apply_changes, changed_resources, manual_change

__all__ = ["EDITABLE_TYPES", "element_of", "set_loinc"]

EDITABLE_TYPES = {"ObservationDefinition": Target.ANALYSIS, "ActivityDefinition": Target.EXAM}
CATALOG_CODE_SYSTEM_ID = "catalogue"


def element_of(catalog: Catalog, rtype: str, rid: str, concept: str) -> tuple[Target, str]:
    """The (kind, local code) of the element a resource (and, for the CodeSystem, a concept) names."""
    if rtype == "CodeSystem":
        if rid != CATALOG_CODE_SYSTEM_ID:
            raise NotFound(f"CodeSystem/{rid} is not the analysis catalogue", expression="CodeSystem.id")
        target = next((t for t in (Target.CHAPTER, Target.SUBCHAPTER) if catalog.find(t, concept) is not None), None)
        if target is None:
            raise NotFound(f"no chapter or sub-chapter with local code {concept!r}", expression="Parameters.concept")
        return target, concept
    target = EDITABLE_TYPES[rtype]
    local = rid.removeprefix(f"{target}-")
    if local == rid or catalog.find(target, local) is None:
        raise NotFound(f"{rtype}/{rid} is not a catalogue {target}", expression=f"{rtype}.id")
    return target, local


async def set_loinc(store: FhirStore, rtype: str, rid: str, loinc_code: str, display: str, *, caller: Caller,
                    write_rule: WriteRule, concept: str = "", expected_vid: int | None = None,
                    now: datetime | None = None) -> Stored:
    """Give the element ``rtype/rid`` (+ ``concept``) a LOINC code; return the resource as now stored.

    ``expected_vid`` is the version the user saw (If-Match); nothing is written when the code and
    display are those the element already has.
    """
    async def write(session: StoreSession) -> Stored:
        stored = await read_catalog(store, session=session)
        target, local = element_of(stored.catalog, rtype, rid, concept)
        seen = stored.versions.get((rtype, rid))
        if expected_vid is not None and seen != expected_vid:
            raise PreconditionFailed(f"{rtype}/{rid} is at version {seen}, not {expected_vid}", expression="If-Match")
        change = manual_change(stored.catalog, target, local, loinc_code, display, caller.id)
        if not change.is_noop():
            after = apply_changes(stored.catalog, [change], now or datetime.now(UTC))
            written = await write_pinned(store, changed_resources(after, [change]), stored.versions,
                                         write_rule=write_rule, session=session)
            await store.create(provenance(written, caller, "UPDATE", f"[SGL.LOI.08] LOINC {loinc_code} set on "
                                          f"{rtype}/{rid}{f' ({concept})' if concept else ''} by $set-loinc"),
                               session=session)
        return await store.read(rtype, rid, session=session)
    return await run_in_transaction(store, write, what=f"$set-loinc on {rtype}/{rid}", expression=f"{rtype}/{rid}")
