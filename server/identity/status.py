"""Status arithmetic of the RNIV (rules 20, 25, 27): downgrades, retiring an INS, the history entry.

Kept apart from the write rule so that the INSi verification (SGL.INS.43) and the bulk check
(SGL.INS.58) downgrade exactly as a strict-trait edit does (SGL.INS.32-36).
"""

from __future__ import annotations

from typing import Any

from resources.fhirjson import instant
from resources.ins import INS_TYPE_BY_OID
from resources.search.date import now_utc
from server.identity.traits import STRICT_TRAITS
from server.identity.vocabulary import (
    LOCKED_TRAITS_URL,
    STATUS_HISTORY_URL,
    extensions,
    history_entry,
    reliability,
    with_reliability,
    without,
)

ONE_LEVEL_DOWN = {"QUAL": "VALI", "RECUP": "PROV", "VALI": "PROV", "PROV": "PROV"}
"""SGL.INS.33: récupérée -> provisoire, qualifiée -> validée."""
DOWNGRADES = frozenset({("QUAL", "VALI"), ("QUAL", "RECUP"), ("QUAL", "PROV"), ("RECUP", "PROV"), ("VALI", "PROV")})
CARRIES_INS = frozenset({"RECUP", "QUAL"})


def _is_active_ins(ident: dict[str, Any]) -> bool:
    return str(ident.get("system", "")).removeprefix("urn:oid:") in INS_TYPE_BY_OID and ident.get("use") != "old"


def retire_ins(patient: dict[str, Any]) -> dict[str, Any]:
    """The matricule and OID stop being current (SGL.INS.32/35) but stay visible as ``use: old``."""
    if not any(_is_active_ins(i) for i in patient.get("identifier", [])):
        return patient
    ids = [{**i, "use": "old"} if _is_active_ins(i) else i for i in patient.get("identifier", [])]
    return {**patient, "identifier": ids}


def stamp(patient: dict[str, Any], *, previous: dict[str, Any] | None, before: str | None, status: str,
          author: str, role: str, reason: str, reliability_from: dict[str, Any]) -> dict[str, Any]:
    """Write ``status`` with the server-managed history (taken from the stored version, never from the
    client) plus one entry when the status changed, and the locked-traits flag (SGL.INS.26, .30)."""
    subs = reliability(reliability_from)
    out = with_reliability({**patient, "extension": without(patient, STATUS_HISTORY_URL, LOCKED_TRAITS_URL)},
                           status, subs)
    kept = extensions(previous, STATUS_HISTORY_URL) if previous else []
    if previous is None or status != before:
        kept.append(history_entry(before, status, when=instant(now_utc()), author=author, role=role, reason=reason))
    added = list(kept)
    if status in CARRIES_INS:
        added.append({"url": LOCKED_TRAITS_URL, "extension": [
            {"url": "element", "valueString": where} for where in STRICT_TRAITS.values()]})
    return {**out, "extension": out["extension"] + added}
