"""The lab profile's texts as stored data: the RGPD patient information (SGL.DOC.08), the Cofrac accreditation
number (SGL.DOC.10), the autoverification notice (SGL.DOC.09) and the general setting of one CR-Bio version or
two, patient and professional (``versions``, SGL.DOC.02), edited by an administrator over the FHIR API
(``$lab-profile``, server/admin/lab_profile.py) and read by the document step each time it renders a CR-Bio.

Why stored rather than only the ``SGL_LAB_PROFILE`` file: these are the lab's wording, changed by the lab (a new
DPO address, an accreditation granted or withdrawn) without a redeploy or a restart. The file stays the first-run
default: until an administrator saves a text, the environment's profile is what prints. One document in one
collection; each change is written with its AuditEvent in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.errors import InvalidInput
from resources.fhirjson import instant
from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.access.admin_audit import admin_event
from server.access.agents import caller_reference
from server.access.caller import Caller
from server.documents.profile import VERSION_SETTINGS, LabProfile

COLLECTION = "lab_profile_texts"
CURRENT = "current"
FIELDS = ("rgpd", "cofrac_number", "autoverification")
LIMITS = {"rgpd": 4000, "cofrac_number": 20, "autoverification": 1000}
COFRAC_NUMBER = re.compile(r"^\d-\d{2,5}$")
"""Cofrac accreditation numbers read ``8-1234`` (section digit, dash, number)."""


async def stored_texts(db: AsyncDatabase[Any]) -> dict[str, Any] | None:
    """The saved texts (with who saved them and when), None while only the environment's profile applies."""
    found: dict[str, Any] | None = await db[COLLECTION].find_one({"_id": CURRENT})
    return found


async def effective(db: AsyncDatabase[Any], base: LabProfile) -> LabProfile:
    """The profile a CR-Bio is rendered with now: the environment's, with the texts the lab saved over it."""
    saved = await stored_texts(db)
    if not saved:
        return base
    return replace(base, rgpd=saved["rgpd"], cofrac_number=saved.get("cofrac_number") or None,
                   autoverification=saved.get("autoverification") or None,
                   versions=saved.get("versions") or base.versions)


def checked_versions(value: str | None, previous: str | None) -> str | None:
    """The versions setting to store: the one given (``single`` / ``patient-professional``), else the one saved
    before (a client that does not know the setting never resets it), else none (the file's applies)."""
    if value is None:
        return previous
    if value not in VERSION_SETTINGS:
        raise InvalidInput(f"versions: one of {', '.join(VERSION_SETTINGS)} (SGL.DOC.02)",
                           expression="Parameters.versions")
    return value


def checked(values: dict[str, str | None]) -> dict[str, str | None]:
    """The texts as they will be stored, or 400 naming the field: an RGPD text is required (it always prints)."""
    out: dict[str, str | None] = {}
    for name in FIELDS:
        value = (values.get(name) or "").strip() or None
        if value is not None and len(value) > LIMITS[name]:
            raise InvalidInput(f"{name}: at most {LIMITS[name]} characters", expression=f"Parameters.{name}")
        out[name] = value
    if not out["rgpd"]:
        raise InvalidInput("rgpd: the patient information text is required (SGL.DOC.08)", expression="Parameters.rgpd")
    if out["cofrac_number"] and not COFRAC_NUMBER.match(out["cofrac_number"]):
        raise InvalidInput("cofrac_number: a Cofrac accreditation number reads like 8-1234",
                           expression="Parameters.cofrac_number")
    return out


async def save(db: AsyncDatabase[Any], store: FhirStore, caller: Caller, values: dict[str, str | None],
               versions: str | None = None) -> None:
    """Store the lab's texts and versions setting with the AuditEvent naming the administrator, together or not
    at all."""
    texts = checked(values)
    async with store.transaction() as session:
        before = await db[COLLECTION].find_one({"_id": CURRENT}, session=session) or {}
        setting = checked_versions(versions, before.get("versions"))
        changed = ", ".join(name for name in FIELDS if texts[name] is not None)
        if setting:
            changed += f"; versions: {setting}" + (f" (was {before.get('versions') or 'single'})"
                                                   if setting != before.get("versions") else "")
        event = admin_event(caller, "lab-profile-update", target_system="urn:opensgl:lab-profile", target=CURRENT,
                            detail=f"lab profile texts saved ({changed})")
        await db[COLLECTION].replace_one(
            {"_id": CURRENT}, {**texts, "versions": setting, "updated": instant(now_utc()),
                               "by": caller_reference(caller)},
            upsert=True, session=session)
        await store.create(event, session=session)
