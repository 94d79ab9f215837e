"""The analysis catalogue on the server: seed on first start, read back from the store, LOINC_1–6 files.

- ``seed``: the demo catalogue written once, in one transaction, when none is stored.
- ``repository``: ``read_catalog`` / ``CatalogRepository`` give other workflows the catalogue
  (analyzer test code -> analysis, reference intervals, LOINC codes).
- ``exporting`` / ``importing`` / ``manual``: SGL.LOI.01–10, shared by ``routes`` (HTTP) and ``cli``.
"""

from server.catalog.exporting import EXPORT_KINDS, export_catalog, export_day, export_file
from server.catalog.importing import apply_import, circuit_codes, read_concept_map_import, read_import
from server.catalog.manual import set_loinc
from server.catalog.seed import run_seed, seed_catalog
from server.stored_catalog import (
    CatalogRepository,
    StoredCatalog,
    catalog_present,
    read_catalog,
    read_concept_map,
)

__all__ = [
    "EXPORT_KINDS", "CatalogRepository", "StoredCatalog", "apply_import", "catalog_present", "circuit_codes",
    "export_catalog", "export_day", "export_file", "read_catalog", "read_concept_map", "read_concept_map_import",
    "read_import", "run_seed", "seed_catalog", "set_loinc",
]
