"""Fixtures for the catalogue tests: the seed catalogue as a validated model and as a dict."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from terminology.catalog.jsonio import catalog_to_dict
from terminology.catalog.model import Catalog
from terminology.seed import load_seed_catalog

_SEED = load_seed_catalog()


@pytest.fixture
def catalog() -> Catalog:
    return _SEED


@pytest.fixture
def seed_dict() -> dict[str, Any]:
    return copy.deepcopy(catalog_to_dict(_SEED))
