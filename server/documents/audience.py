"""One CR-Bio version, or two (patient and professional), chosen by a general setting (SGL.DOC.02).

The lab profile's ``versions`` setting (``single``, the default, or ``patient-professional``; saved by an
administrator through ``Organization/$lab-profile``) says which versions the document step makes. With two,
the same generation runs once per audience (``generate.generate(..., audience=...)``):

- the **professional** version is today's document (ids, set, N3 + N1 + PDF/A-1): it goes to the DMP, the
  EHRs over HL7 v2 and the professionals over MSSanté;
- the **patient** version has its own set (``<report>.pat``) and is N3 (with its PDF copy) + PDF/A-1, the
  pair an MSSanté patient mail carries (SGL.MSS.20: "patient copy if there is one"; no N1, which only the DMP
  takes, and the DMP gets the professional version: SGL.DOC.17 notes "physician copy in N3 + N1, optional
  patient copy").

What differs (the reference names no difference; the conservative reading, written down as doubtful in the
lane's notes): the same results, the same header, the same CR-BIO document type ``11502-2`` (the only one the
volet schematron accepts; the reference gives no patient-facing type), without the comments marked for
professionals only (``Annotation`` extension ``NOTE_AUDIENCE_URL`` = ``professional``), and each copy says
which one it is (PDF header line, N3 mention paragraph, ``DocumentReference.category``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from resources.codes import PATIENT_COPY_ID_PREFIX
from server.documents.gather import Dossier, Resource
from server.documents.profile import TWO_VERSIONS
from server.validation.marks import EXT_NOTE_AUDIENCE

PROFESSIONAL, PATIENT = "professional", "patient"
AUDIENCE_SYSTEM = "https://opensgl.org/fhir/CodeSystem/crbio-audience"
AUDIENCE_DISPLAY = {PROFESSIONAL: "Version professionnel de santé", PATIENT: "Version patient"}
NOTE_AUDIENCE_URL = EXT_NOTE_AUDIENCE
"""On an ``Observation.note``: ``valueCode`` ``professional`` keeps the comment out of the patient version."""
COPY_LABEL = {PROFESSIONAL: "Exemplaire destiné aux professionnels de santé", PATIENT: "Exemplaire destiné au patient"}
SERIES = {PROFESSIONAL: "", PATIENT: ".pat"}
"""CDA set suffix: the professional version keeps the report's set (the single version's ids, unchanged)."""
ID_PREFIX = {PROFESSIONAL: "", PATIENT: PATIENT_COPY_ID_PREFIX}
"""Binary / DocumentReference id part: ``<report>-n3-v1`` (professional, as the single version) and
``<report>-patient-n3-v1``."""
FORMATS = {PROFESSIONAL: ("n3", "n1", "pdf"), PATIENT: ("n3", "pdf")}


def audiences(setting: str) -> tuple[str | None, ...]:
    """The versions to make: ``(None,)`` for the single version (made exactly as before the setting existed)."""
    return (PROFESSIONAL, PATIENT) if setting == TWO_VERSIONS else (None,)


def professional_only(note: dict[str, Any]) -> bool:
    return any(e.get("url") == NOTE_AUDIENCE_URL and e.get("valueCode") == PROFESSIONAL
               for e in note.get("extension", ()))


def _without_professional_notes(observation: Resource) -> Resource:
    notes = [n for n in observation.get("note", ()) if not professional_only(n)]
    out = {k: v for k, v in observation.items() if k != "note"}
    return {**out, "note": notes} if notes else out


def for_audience(dossier: Dossier, audience: str | None) -> Dossier:
    """The dossier as that version shows it: the patient's without the professional-only comments."""
    if audience != PATIENT:
        return dossier
    return dataclasses.replace(dossier, observations=[_without_professional_notes(o) for o in dossier.observations])
