"""Patients and helpers shared by the identity tests (the kit identity ADRTROIS DOMINIQUE)."""

from __future__ import annotations

import copy
from typing import Any

from resources.ins import OID_INS_NIR, ins_identifier, ins_identifier_for
from resources.patient_traits import birthplace_extension
from server.identity.vocabulary import with_reliability

MATRICULE = "297022A02077878"


def provisional(pid: str = "p1", family: str = "ADRTROIS") -> dict[str, Any]:
    """The minimum identity (SGL.INS.11) of ADRTROIS DOMINIQUE, provisional, without INS."""
    return {
        "resourceType": "Patient",
        "id": pid,
        "name": [{"use": "official", "family": family, "given": ["DOMINIQUE"]}],
        "gender": "female",
        "birthDate": "1997-02-26",
        "extension": [birthplace_extension("2A020")],
    }


def with_status(patient: dict[str, Any], status: str, *, ins: bool = True) -> dict[str, Any]:
    out = with_reliability(copy.deepcopy(patient), status, {})
    if ins:
        out["identifier"] = [ins_identifier_for(MATRICULE, OID_INS_NIR)]
    return out


def param(name: str, value: object) -> dict[str, object]:
    """One Parameters.parameter: a reference for ``Patient/...``, a boolean, else a string."""
    if isinstance(value, bool):
        return {"name": name, "valueBoolean": value}
    if isinstance(value, str) and value.startswith("Patient/"):
        return {"name": name, "valueReference": {"reference": value}}
    return {"name": name, "valueString": value}


def parameters(**values: object) -> dict[str, object]:
    items: list[dict[str, object]] = []
    for name, value in values.items():
        for one in value if isinstance(value, list) else [value]:
            items.append(param(name, one))
    return {"resourceType": "Parameters", "parameter": items}


def out(body: dict[str, Any], name: str) -> Any:
    """The value (or resource) of an output parameter, None when absent."""
    for p in body.get("parameter", []):
        if p["name"] == name:
            return p.get("resource", p.get("valueString", p.get("valueBoolean", p.get("valueInteger"))))
    return None


def ins_of(patient: dict[str, Any]) -> dict[str, Any]:
    """The current INS identifier, {} when there is none."""
    return ins_identifier(patient) or {}
