"""Patients and helpers shared by the identity tests (the kit identity ADRTROIS DOMINIQUE)."""

from __future__ import annotations

import copy
from typing import Any

from facades.pdf.patient_traits import birthplace_extension
from resources.ins import OID_INS_NIR, ins_identifier_for
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
