"""LOINC_4/5/6 imports (SGL.LOI.04–07) and their FHIR form (SGL.LOI.10): read, then apply at once.

Two steps, so that the CLI can stop after the first (``--dry-run``) and so that a catalogue that
moved between them is noticed:

1. ``read_import`` checks the file (CSV) or ConceptMap against the stored catalogue and returns the
   changes plus the line-numbered report (``terminology.parse_loinc_import``). Nothing is written.
2. ``apply_import`` re-reads the catalogue inside one transaction, applies the changes to it
   (``StaleLoincChange`` -> 409 if an element's LOINC code moved since step 1) and writes the
   touched resources pinned to the versions it read. All of it is written, or nothing.

Lines with a blocking error contributed no change in step 1, so nothing from them is applied.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from resources.errors import InvalidInput
from resources.interactions import WriteRule
from resources.store.base import FhirStore, StoreSession
from resources.store.transactions import run_in_transaction
from server.access.caller import Caller
from server.audit import provenance
from server.catalog.writer import Progress, write_pinned
from server.settings import Settings
from server.stored_catalog import read_catalog
from terminology import (
    ImportResult,
    apply_changes,
    changed_resources,
    load_circuit_value_set,
    load_value_set_codes,
    parse_concept_map_import,
    parse_loinc_import,
)

__all__ = ["apply_import", "circuit_codes", "read_concept_map_import", "read_csv_bytes_import", "read_import"]


def circuit_codes(settings: Settings) -> frozenset[str]:
    """The "circuit de la biologie" LOINC codes: the configured release, else the shipped stand-in."""
    if settings.circuit_value_set is not None:
        return load_value_set_codes(settings.circuit_value_set)
    return load_circuit_value_set()


async def read_import(store: FhirStore, path: Path, circuit: frozenset[str]) -> ImportResult:
    """Check a LOINC_4/5/6 CSV file (kind from its name) against the stored catalogue."""
    stored = await read_catalog(store)
    return await asyncio.to_thread(parse_loinc_import, path, stored.catalog, circuit)


async def read_csv_bytes_import(store: FhirStore, file_name: str, content: bytes,
                                circuit: frozenset[str]) -> ImportResult:
    """The same for a file received over HTTP: its name says its kind, so it is checked under that name."""
    name = Path(file_name.replace("\\", "/")).name
    if not name or name != file_name.strip() or name.startswith("."):
        raise InvalidInput(f"{file_name!r} is not a plain file name such as LOINC_6_transcodage_resultats_"
                           "20261201.csv", expression="file")
    with tempfile.TemporaryDirectory(prefix="sgl-loinc-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        return await read_import(store, path, circuit)


async def read_concept_map_import(store: FhirStore, concept_map: Any, circuit: frozenset[str]) -> ImportResult:
    """Check a provider's ConceptMap (LOINC_4bis–6bis) against the stored catalogue."""
    if not isinstance(concept_map, dict):
        raise InvalidInput("a LOINC_4bis-6bis import must be a FHIR ConceptMap", expression="resourceType")
    stored = await read_catalog(store)
    return parse_concept_map_import(concept_map, stored.catalog, circuit)


async def apply_import(store: FhirStore, result: ImportResult, *, write_rule: WriteRule, caller: Caller,
                       now: datetime | None = None, progress: Progress | None = None) -> int:
    """Apply every change of ``result`` in one transaction; return how many LOINC codes changed."""
    if not result.changes:
        return 0
    async def write(session: StoreSession) -> None:
        fresh = await read_catalog(store, session=session)
        after = apply_changes(fresh.catalog, result.changes, now or datetime.now(UTC))
        resources = changed_resources(after, result.changes)
        written = await write_pinned(store, resources, fresh.versions, write_rule=write_rule, session=session,
                                     progress=progress)
        await store.create(provenance(written, caller, "UPDATE", f"[SGL.LOI.08] {len(result.changes)} LOINC code(s) "
                                      "imported by $loinc-import"), session=session)
    await run_in_transaction(store, write, what="LOINC import")
    return len(result.changes)
