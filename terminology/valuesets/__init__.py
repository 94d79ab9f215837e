"""LOINC value sets the catalogue is checked against.

``circuit_biologie.json`` is a *stand-in* for the "circuit de la biologie" value set that
SGL.LOI.07 names (published on bioloinc.fr, not reachable offline): the LOINC codes of the demo
catalogue plus the biology codes of the ANS CR-BIO examples. A lab loads the official release
with ``load_value_set_codes(path)``; a code outside it is a non-blocking import warning.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from resources.errors import InvalidInput
from terminology.loinc import LOINC_SYSTEM

__all__ = ["load_circuit_value_set", "load_value_set_codes"]


def _codes(value_set: dict[str, Any], where: str) -> frozenset[str]:
    if value_set.get("resourceType") != "ValueSet":
        raise InvalidInput("not a FHIR ValueSet", expression=f"{where}:resourceType")
    codes = {c["code"] for inc in value_set.get("compose", {}).get("include", ())
             if inc.get("system") == LOINC_SYSTEM for c in inc.get("concept", ())}
    codes |= {c["code"] for c in value_set.get("expansion", {}).get("contains", ())
              if c.get("system") == LOINC_SYSTEM}
    if not codes:
        raise InvalidInput("the value set lists no LOINC code", expression=f"{where}:compose")
    return frozenset(codes)


def load_value_set_codes(path: Path) -> frozenset[str]:
    """The LOINC codes of a FHIR ValueSet file (``compose`` concepts or ``expansion``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read value set {path.name}: {exc}", expression=path.name) from exc
    return _codes(data, path.name)


def load_circuit_value_set() -> frozenset[str]:
    """The shipped stand-in for the "circuit de la biologie" LOINC value set."""
    text = resources.files(__package__).joinpath("circuit_biologie.json").read_text(encoding="utf-8")
    return _codes(json.loads(text), "circuit_biologie.json")
