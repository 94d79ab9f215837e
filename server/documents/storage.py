"""Storage: each format as a ``Binary`` + ``DocumentReference``, the previous version superseded.

Written with the caller's ``session``, i.e. in the same transaction as the DiagnosticReport whose
``presentedForm`` points to them: the report, its documents and the superseding commit together.
Ids are derived from the report and the version (``<report>-n3-v2``), so the version number of the
next document is read back from the report's own ``presentedForm`` links. A lab that makes two versions
(SGL.DOC.02) also stores the patient's (``<report>-patient-n3-v2``, ``-patient-pdf-``); each
DocumentReference then says which version it is (``category`` of ``audience.AUDIENCE_SYSTEM``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from resources import interactions
from resources.codes import LAB_REPORT_DISPLAY_FR, LAB_REPORT_LOINC
from resources.errors import NotFound
from resources.fhirjson import instant
from resources.interactions import ReferenceCheck
from resources.search.date import now_utc
from resources.store.base import FhirStore, StoreSession
from server.documents.audience import AUDIENCE_DISPLAY, AUDIENCE_SYSTEM, ID_PREFIX, PATIENT, SERIES
from server.documents.audience import FORMATS as AUDIENCE_FORMATS
from server.documents.compose import CONFIDENTIALITY_SYSTEM, Version, confidentiality
from server.documents.gather import Resource
from server.documents.generate import Documents
from server.documents.profile import FINESS_SYSTEM, LabProfile
from terminology import LOINC_SYSTEM

IHE_FORMAT = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
FORMATS: dict[str, tuple[str, dict[str, str]]] = {
    "n3": ("text/xml", {"system": IHE_FORMAT, "code": "urn:ihe:lab:xd-lab:2008", "display": "CR-BIO CDA N3"}),
    "n1": ("text/xml", {"system": IHE_FORMAT, "code": "urn:ihe:iti:xds-sd:pdf:2008", "display": "CDA N1 (PDF)"}),
    "pdf": ("application/pdf", {"system": "https://opensgl.org/fhir/CodeSystem/document-format",
                                "code": "pdf-a-1b", "display": "PDF/A-1b"}),
}
LAB_REPORT_TYPE = {"coding": [{"system": LOINC_SYSTEM, "code": LAB_REPORT_LOINC, "display": LAB_REPORT_DISPLAY_FR}]}
PATIENT_FORMATS = AUDIENCE_FORMATS[PATIENT]
_LINK = re.compile(r"^Binary/(?P<report>.+)-(?P<fmt>n3|n1|pdf)-v(?P<n>\d+)$")


def doc_id(report_id: str, fmt: str, number: int, audience: str | None = None) -> str:
    """``<report>-n3-v2`` (single or professional version), ``<report>-patient-n3-v2`` (patient version)."""
    return f"{report_id}-{ID_PREFIX[audience] if audience else ''}{fmt}-v{number}"


def next_version(current: Resource | None) -> Version:
    """Version 1, or the one after the documents the stored report points to (with their date, for MSS.24)."""
    forms = (current or {}).get("presentedForm", ())
    patient_copy = any(f"-{ID_PREFIX[PATIENT]}" in str(f.get("url", "")) for f in forms)
    for form in forms:
        found = _LINK.match(str(form.get("url", "")))
        if found:
            return Version(int(found["n"]) + 1, form.get("creation"), patient_copy)
    return Version(1)


def attachment(content_type: str, content: bytes, url: str, title: str, created: str) -> dict[str, Any]:
    return {"contentType": content_type, "url": url, "size": len(content), "title": title, "creation": created,
            "hash": base64.b64encode(hashlib.sha1(content).digest()).decode("ascii")}


def lab_author(profile: LabProfile) -> dict[str, Any]:
    return {"identifier": {"system": FINESS_SYSTEM, "value": profile.finess}, "display": profile.name}


async def put(store: FhirStore, resource: Resource, session: StoreSession | None,
              references: ReferenceCheck | None = None) -> None:
    """Write ``resource`` at its id; ``references``: a check deferred to the end of the caller's transaction."""
    await interactions.update(store, resource["resourceType"], resource["id"], resource, session=session,
                              references=references)


async def _supersede(store: FhirStore, ident: str, session: StoreSession | None) -> bool:
    """Mark the previous version superseded; False when there is none (a patient version after a single one)."""
    try:
        previous = (await store.read("DocumentReference", ident, session=session)).resource or {}
    except NotFound:
        return False
    await put(store, {**previous, "status": "superseded"}, session)
    return True


async def store_documents(store: FhirStore, report: Resource, made: tuple[Documents, ...], profile: LabProfile,
                          session: StoreSession | None) -> list[dict[str, Any]]:
    """Write every format of every version made; return the report's new ``presentedForm`` (the single or
    professional version first: what ``next_version`` and ``$cr-bio`` read by default)."""
    forms = []
    for docs in made:
        forms += await _store_version(store, report, docs, profile, session)
    number = made[0].version.number
    if number > 1 and all(docs.audience != PATIENT for docs in made):  # back to one version: the patient's ends
        for fmt in PATIENT_FORMATS:
            await _supersede(store, doc_id(report["id"], fmt, number - 1, PATIENT), session)
    return forms


def _describe(reference: Resource, audience: str | None) -> Resource:
    """Say which version the DocumentReference is when the lab makes two (nothing for its single version)."""
    if audience is None:
        return reference
    return {**reference, "category": [{"coding": [{"system": AUDIENCE_SYSTEM, "code": audience,
                                                   "display": AUDIENCE_DISPLAY[audience]}]}],
            "description": f"{reference['description']} ({AUDIENCE_DISPLAY[audience].lower()})"}


async def _store_version(store: FhirStore, report: Resource, docs: Documents, profile: LabProfile,
                         session: StoreSession | None) -> list[dict[str, Any]]:
    number, created, audience = docs.version.number, instant(now_utc()), docs.audience
    series = SERIES[audience] if audience else ""
    level = {"n3": series, "n1": ".n1", "pdf": series + ".pdf"}
    forms = []
    for fmt, content in docs.contents.items():
        ident, (content_type, format_code) = doc_id(report["id"], fmt, number, audience), FORMATS[fmt]
        form = attachment(content_type, content, f"Binary/{ident}", docs.name(fmt), created)
        await put(store, {"resourceType": "Binary", "id": ident, "contentType": content_type,
                          "data": base64.b64encode(content).decode("ascii")}, session)
        reference: Resource = _describe({
            "resourceType": "DocumentReference", "id": ident,
            "masterIdentifier": {"system": f"urn:oid:{profile.oid_root}",
                                 "value": f"{report['id']}{level[fmt]}.{number}"},
            "status": "current", "docStatus": "final" if docs.view.status == "final" else "preliminary",
            "type": LAB_REPORT_TYPE, "subject": report["subject"], "date": created,
            "author": [lab_author(profile)],
            "description": f"Compte rendu d'examens biologiques, version {number}",
            "securityLabel": [{"coding": [{"system": CONFIDENTIALITY_SYSTEM, "code": confidentiality(report)}]}],
            "content": [{"attachment": form, "format": format_code}],
            "context": {"related": [{"reference": f"DiagnosticReport/{report['id']}"}]},
        }, audience)
        if number > 1:
            previous = doc_id(report["id"], fmt, number - 1, audience)
            if await _supersede(store, previous, session):
                reference["relatesTo"] = [{"code": "replaces",
                                           "target": {"reference": f"DocumentReference/{previous}"}}]
        await put(store, reference, session)
        forms.append(form)
    return forms
