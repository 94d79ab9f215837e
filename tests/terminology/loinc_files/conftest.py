"""Fixtures for the LOINC file tests: real exports in ``tmp_path`` and a writer for provider answers."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from terminology.catalog.model import Catalog
from terminology.loinc_files.export import export_loinc_files
from terminology.seed import load_seed_catalog
from terminology.valuesets import load_circuit_value_set
from tests.support.loinc_rows import TODAY, read_rows


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_seed_catalog()


@pytest.fixture(scope="session")
def circuit() -> frozenset[str]:
    return load_circuit_value_set()


@pytest.fixture
def exported(tmp_path: Path, catalog: Catalog) -> dict[int, Path]:
    """LOINC_1..3 written for ``TODAY`` in a fresh directory, keyed by file number."""
    paths = export_loinc_files(catalog, tmp_path / "export", TODAY)
    return {int(p.name[6]): p for p in paths}


@pytest.fixture
def answer(tmp_path: Path, exported: dict[int, Path]) -> Callable[..., Path]:
    """Write a provider's LOINC_4/5/6 built on our LOINC_1/2/3: ``extra(row) -> appended cells``."""

    def write(number: int, extra: Callable[[list[str]], list[str]], *, headers: list[str],
              more_lines: list[str] = (), encoding: str = "utf-8") -> Path:
        header, rows = read_rows(exported[number - 3])
        stem = {4: "LOINC_4_transcodage_chapitres", 5: "LOINC_5_transcodage_demandes",
                6: "LOINC_6_transcodage_resultats"}[number]
        path = tmp_path / "answers" / f"{stem}_20261201.csv"
        path.parent.mkdir(exist_ok=True)
        with path.open("w", encoding=encoding, newline="") as fh:
            writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
            writer.writerow(header + headers)
            writer.writerows(row + extra(row) for row in rows)
            fh.writelines(line + "\r\n" for line in more_lines)
        return path

    return write
