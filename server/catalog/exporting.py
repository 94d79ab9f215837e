"""LOINC_1/2/3 exports of the stored catalogue (SGL.LOI.01–03), for the CLI and the API alike.

Both go through ``terminology.export_loinc_files``, so a file fetched over HTTP is byte for byte
the file ``sgl catalog export`` writes on the same day. The date in the file names is the lab's
calendar day (Europe/Paris), not the UTC one.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from resources.errors import InvalidInput
from resources.store.base import FhirStore
from server.stored_catalog import read_catalog
from terminology import export_loinc_files

__all__ = ["EXPORT_KINDS", "export_catalog", "export_day", "export_file"]

EXPORT_KINDS = ("LOINC_1", "LOINC_2", "LOINC_3")
LAB_TIMEZONE = ZoneInfo("Europe/Paris")


def export_day() -> date:
    return datetime.now(LAB_TIMEZONE).date()


async def export_catalog(store: FhirStore, directory: Path, day: date) -> list[Path]:
    """Write LOINC_1, LOINC_2 and LOINC_3 into ``directory``; return their paths."""
    stored = await read_catalog(store)
    return await asyncio.to_thread(export_loinc_files, stored.catalog, directory, day)


async def export_file(store: FhirStore, kind: str, day: date) -> tuple[str, bytes]:
    """One export file, ``kind`` in ``EXPORT_KINDS``: its name (with the date) and its bytes."""
    if kind not in EXPORT_KINDS:
        raise InvalidInput(f"file must be one of {', '.join(EXPORT_KINDS)}, not {kind!r}", expression="file")
    with tempfile.TemporaryDirectory(prefix="sgl-loinc-") as tmp:
        paths = await export_catalog(store, Path(tmp), day)
        path = next(p for p in paths if p.name.startswith(kind + "_"))
        return path.name, path.read_bytes()
