"""The public surface of ``server.catalog`` (what other workflows may import), pinned."""

from __future__ import annotations

import server.catalog


def test_public_surface_is_pinned() -> None:
    assert sorted(server.catalog.__all__) == sorted([
        "EXPORT_KINDS", "CatalogRepository", "StoredCatalog", "apply_import", "catalog_present", "circuit_codes",
        "export_catalog", "export_day", "export_file", "read_catalog", "read_concept_map", "read_concept_map_import",
        "read_import", "run_seed", "seed_catalog", "set_loinc"])
    assert all(hasattr(server.catalog, name) for name in server.catalog.__all__)
