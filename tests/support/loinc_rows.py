"""LOINC file test material: the export day and a reader for the ``;``-separated files."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

TODAY = date(2026, 11, 26)
Rows = list[list[str]]


def read_rows(path: Path) -> tuple[list[str], Rows]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    return rows[0], rows[1:]
