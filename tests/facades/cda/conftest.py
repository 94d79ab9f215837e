"""Shared fixtures for the CDA facade tests: a private schematron cache and the ANS examples."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from facades.cda.conformance.kit import Kit, default_kit


@pytest.fixture(scope="session", autouse=True)
def cda_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Compiled schematrons go to a temporary cache, never to the developer's home."""
    path = tmp_path_factory.mktemp("sgl-cache")
    old = os.environ.get("SGL_CACHE_DIR")
    os.environ["SGL_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        del os.environ["SGL_CACHE_DIR"]
    else:
        os.environ["SGL_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def kit() -> Kit:
    return default_kit()


@pytest.fixture(scope="session")
def examples(kit: Kit) -> Path:
    return kit.root / "ExemplesCDA"
