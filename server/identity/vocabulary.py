"""How identitovigilance state is written on a FHIR Patient: URLs, codes and small accessors.

- Status: the FR Core ``identity-reliability`` extension (``identityStatus`` PROV/RECUP/VALI/QUAL,
  ``validationMode`` = the justificatif, ``validationDate``), read with ``resources.ins``.
- Attributes "identité douteuse" / "fictive" (RNIV rule 25): an OpenSGL extension holding the
  PAM-FR codes ``DOUTE`` / ``FICTI`` (FR Core has no element for them yet).
- Status history (SGL.INS.26): a server-managed extension list on the Patient itself, one entry
  per change (previous, new, date, author, role, reason). Chosen over Provenance resources because
  it is written in the same atomic document write as the change it records (no orphan nor missing
  entry if the write fails or races), it travels with the Patient in every read and export, and
  each Patient version in ``_history`` shows the list as it then was.
- Locked traits (SGL.INS.30): a server-managed extension naming each strict trait that is locked,
  present only on a RECUP/QUAL identity, so that any client can show the lock.
"""

from __future__ import annotations

from typing import Any

from resources.ins import IDENTITY_RELIABILITY_URL, IDENTITY_STATUS_SYSTEM, VALIDATION_MODE_SYSTEM

OPENSGL_SD = "https://opensgl.org/fhir/StructureDefinition"
ATTRIBUTE_URL = f"{OPENSGL_SD}/identity-attribute"
ATTRIBUTE_SYSTEM = "https://opensgl.org/fhir/CodeSystem/identity-attribute"
STATUS_HISTORY_URL = f"{OPENSGL_SD}/identity-status-history"
LOCKED_TRAITS_URL = f"{OPENSGL_SD}/identity-locked-traits"
BLOCKING_ATTRIBUTES = frozenset({"DOUTE", "FICTI"})
"""Attributes that force a provisional identity and block INSi (SGL.INS.27-28)."""
RANK = {"PROV": 0, "RECUP": 1, "VALI": 1, "QUAL": 2}
SERVER_MANAGED = frozenset({STATUS_HISTORY_URL, LOCKED_TRAITS_URL})


def extensions(patient: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [e for e in patient.get("extension", []) if e.get("url") == url]


def without(patient: dict[str, Any], *urls: str) -> list[dict[str, Any]]:
    """The Patient's extensions minus those of ``urls``."""
    return [e for e in patient.get("extension", []) if e.get("url") not in urls]


_PID32_ALIASES = {"DOUT": "DOUTE", "FICT": "FICTI"}


def attributes(patient: dict[str, Any]) -> set[str]:
    """The identity attributes set on the Patient (``DOUTE``, ``FICTI``, ``HOMD``...): our extension, and the
    PID-32 codes an identity feed keeps as ``comment`` of the FR Core reliability extension (DOUT, FICT)."""
    ours = {str((e.get("valueCoding") or {}).get("code", "")).upper() for e in extensions(patient, ATTRIBUTE_URL)}
    found = extensions(patient, IDENTITY_RELIABILITY_URL)
    comments = [s for s in (found[0].get("extension", []) if found else []) if s.get("url") == "comment"]
    fed = {str((c.get("valueCoding") or {}).get("code", "")).upper() for c in comments}
    return ours | {_PID32_ALIASES.get(code, code) for code in fed}


def attribute_extension(code: str) -> dict[str, Any]:
    return {"url": ATTRIBUTE_URL, "valueCoding": {"system": ATTRIBUTE_SYSTEM, "code": code}}


def reliability(patient: dict[str, Any]) -> dict[str, Any]:
    """The sub-extensions of the identity-reliability extension, by url (empty when absent)."""
    found = extensions(patient, IDENTITY_RELIABILITY_URL)
    return {s.get("url"): s for s in (found[0].get("extension", []) if found else [])}


def with_reliability(patient: dict[str, Any], status: str, extra: dict[str, Any]) -> dict[str, Any]:
    """The Patient with its identity-reliability extension set to ``status`` plus ``extra`` sub-extensions."""
    subs = [{"url": "identityStatus", "valueCoding": {"system": IDENTITY_STATUS_SYSTEM, "code": status}}]
    subs += [v for k, v in extra.items() if k != "identityStatus"]
    ext = {"url": IDENTITY_RELIABILITY_URL, "extension": subs}
    return {**patient, "extension": [ext, *without(patient, IDENTITY_RELIABILITY_URL)]}


def validation_mode(code: str, label: str) -> dict[str, Any]:
    return {"url": "validationMode", "valueCoding": {"system": VALIDATION_MODE_SYSTEM, "code": code,
                                                     "display": label}}


def history_entry(previous: str | None, status: str, *, when: str, author: str, role: str,
                  reason: str) -> dict[str, Any]:
    subs: list[dict[str, Any]] = []
    if previous:
        subs.append({"url": "previous", "valueCode": previous})
    subs += [
        {"url": "status", "valueCode": status},
        {"url": "date", "valueDateTime": when},
        {"url": "author", "valueString": author},
        {"url": "role", "valueString": role},
        {"url": "reason", "valueString": reason},
    ]
    return {"url": STATUS_HISTORY_URL, "extension": subs}


def history(patient: dict[str, Any]) -> list[dict[str, str]]:
    """The status history as plain dicts (previous, status, date, author, role, reason), oldest first."""
    out = []
    for entry in extensions(patient, STATUS_HISTORY_URL):
        row = {}
        for sub in entry.get("extension", []):
            row[str(sub.get("url"))] = str(sub.get("valueCode") or sub.get("valueDateTime") or sub.get("valueString"))
        out.append(row)
    return out
