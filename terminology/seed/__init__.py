"""The demo catalogue shipped with OpenSGL: a French medical biology laboratory.

``catalogue.json`` holds 98 result analyses and 41 orderable exams over biochemistry,
haematology, haemostasis, immunology, serology, urine chemistry and microbiology, with LOINC
codes, UCUM units, reference intervals and the test codes of two demo analyzers (``BIO1``,
``HEM1``). The server loads it into an empty store; the tests use it as a realistic fixture.
"""

from __future__ import annotations

import json
from importlib import resources

from terminology.catalog.jsonio import catalog_from_dict
from terminology.catalog.model import Catalog

__all__ = ["load_seed_catalog"]


def load_seed_catalog() -> Catalog:
    """Read and validate the shipped demo catalogue."""
    text = resources.files(__package__).joinpath("catalogue.json").read_text(encoding="utf-8")
    return catalog_from_dict(json.loads(text))
