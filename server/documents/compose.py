"""Composition: one gathered ``Dossier`` -> the PDF ``ReportView`` and the CDA ``CrBioInput``.

Both views read the same enriched Observations (catalogue label, LOINC chapter), so the PDF and the
N3 group and name results alike. Mentions follow the requirements: the autoverification notice iff
a listed result is still tagged ``autoverified`` (SGL.DOC.09), the Cofrac mention only for accredited
results of our own lab (SGL.DOC.10), the RGPD text of the lab profile (SGL.DOC.08), and the INS with
its Datamatrix only for a qualified identity (``PatientIdentity.from_patient``, SGL.INS.51-53).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from facades.cda import CrBioInput, DocumentVersion, Party
from facades.pdf import (
    Chapter,
    PatientIdentity,
    Prescriber,
    Replacement,
    ReportView,
    ResultLine,
    Section,
    SpecimenInfo,
    Validation,
)
from resources.codes import RESULT_FINAL
from resources.fhirjson import instant
from resources.ins import INS_TYPE_BY_OID
from resources.search.date import now_utc
from server.documents.audience import COPY_LABEL, PATIENT, SERIES
from server.documents.gather import Dossier, Resource, value_text
from server.validation.marks import is_autoverified
from terminology import LOINC_SYSTEM

FLAGS = {"H", "HH", "L", "LL", "A"}
CONFIDENTIALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
_INS_SYSTEMS = frozenset(f"urn:oid:{oid}" for oid in INS_TYPE_BY_OID)


def ipp_of(patient: Resource) -> str | None:
    """The patient's IPP as printed under "N° patient (IPP)": the identifier typed ``PI`` (PAM-FR, FR Core),
    else the first current identifier that is not an INS; None when the lab has none (the FHIR id is an
    internal key, never an IPP)."""
    current = [i for i in patient.get("identifier", ()) if i.get("value") and i.get("use") != "old"
               and i.get("system") not in _INS_SYSTEMS]
    typed = [i for i in current if any(c.get("system") == V2_0203 and c.get("code") == "PI"
                                       for c in (i.get("type") or {}).get("coding", ()))]
    found = (typed or current or [None])[0]
    return str(found["value"]) if found else None


@dataclass(frozen=True)
class Version:
    """Where this document stands in its set (SGL.MSS.24: a new version cancels and replaces the last)."""

    number: int
    replaced_issued_at: str | None = None
    patient_copy_replaced: bool = False
    """The version replaced had a patient version too (SGL.DOC.02): only then does the patient's name it (RPLC)."""


def document_ids(dossier: Dossier, number: int, series: str = "", *, replaces: bool = True) -> DocumentVersion:
    """N3 ids are ``<report>.<n>`` in set ``<report>``; the N1, another document, uses ``<report>.n1.<n>``.
    ``replaces=False``: a version whose predecessor does not exist in this set (a patient version after a
    single one) names none."""
    set_id = dossier.report["id"] + series
    return DocumentVersion(root=dossier.profile.oid_root, document_id=f"{set_id}.{number}", set_id=set_id,
                           number=number, replaces=f"{set_id}.{number - 1}" if number > 1 and replaces else None)


def confidentiality(report: Resource) -> str:
    codes = {s.get("code") for s in (report.get("meta") or {}).get("security", ())
             if s.get("system") == CONFIDENTIALITY_SYSTEM}
    return next((c for c in ("V", "R") if c in codes), "N")


def _name(party: Party | None) -> str:
    if party is None:
        return ""
    person = next(iter(party.practitioner.get("name", ())), None)
    if person:
        return " ".join([*person.get("prefix", ()), *person.get("given", ()), person.get("family", "")]).strip()
    return str((party.organization or {}).get("name", ""))


def _range(observation: Resource) -> str:
    ranges = observation.get("referenceRange") or []
    if not ranges:
        return ""
    low, high = (ranges[0].get("low") or {}).get("value"), (ranges[0].get("high") or {}).get("value")
    return str(ranges[0].get("text") or " - ".join(str(v) for v in (low, high) if v is not None))


def _flag(observation: Resource) -> str | None:
    codes = [c.get("code") for i in observation.get("interpretation", ()) for c in i.get("coding", ())]
    return next((str(c) for c in codes if c in FLAGS), None)


def _own(dossier: Dossier, observation: Resource) -> bool:
    """Performed by our lab (not by a subcontractor named in ``performer``)."""
    return not any(str(p.get("reference", "")).startswith("Organization/") for p in observation.get("performer", ()))


def _accredited(dossier: Dossier, observation: Resource) -> bool:
    """Covered by our Cofrac accreditation: an accredited analysis of the catalogue, performed here (SGL.DOC.10)."""
    analysis = dossier.analyses.get(observation["id"])
    return bool(analysis and analysis.cofrac and dossier.profile.cofrac_number and _own(dossier, observation))


def _line(dossier: Dossier, observation: Resource) -> ResultLine:
    analysis = dossier.analyses.get(observation["id"])
    previous = dossier.previous.get(observation["id"])
    notes = [str(n.get("text", "")) for n in observation.get("note", ())]
    performer = [o.get("name", "") for o in dossier.organizations
                 if {"reference": f"Organization/{o['id']}"} in observation.get("performer", ())]
    if performer:
        notes.append(f"Réalisé par : {performer[0]}")
    return ResultLine(
        label=str((observation.get("code") or {}).get("text") or (analysis.label if analysis else "")),
        value=value_text(observation, analysis.decimals if analysis else None) or "-",
        unit=str((observation.get("valueQuantity") or {}).get("unit", "")),
        reference_range=_range(observation), flag=_flag(observation),
        previous_value=previous.value if previous else None, previous_date=previous.date if previous else None,
        comment=" ".join(n for n in notes if n),
        accredited=_accredited(dossier, observation),
        autoverified=is_autoverified(observation))


def _component_lines(observation: Resource) -> list[ResultLine]:
    """Antibiogram components: one line per antibiotic, S/I/R as the comment."""
    out = []
    for component in observation.get("component", ()):
        coding: dict[str, Any] = next(iter((component.get("code") or {}).get("coding", ())), {})
        interpretation = [c.get("code") for i in component.get("interpretation", ()) for c in i.get("coding", ())]
        out.append(ResultLine(label=str(coding.get("display") or coding.get("code") or ""),
                              value=value_text(component) or "-",
                              unit=str((component.get("valueQuantity") or {}).get("unit", "")),
                              comment=" ".join(str(c) for c in interpretation if c)))
    return out


def _section(dossier: Dossier, observation: Resource) -> Section:
    """A result alone, or a battery / isolate with its members (and antibiogram lines)."""
    members = [m for ref in observation.get("hasMember", ()) if (m := dossier.observation(ref.get("reference", "")))]
    if not members:
        return Section([_line(dossier, observation), *_component_lines(observation)])
    head = [_line(dossier, observation)] if value_text(observation) else []
    lines = head + [line for m in members for line in [_line(dossier, m), *_component_lines(m)]]
    return Section(lines, title=str((observation.get("code") or {}).get("text") or ""))


def _chapter_title(observation: Resource) -> str:
    for concept in observation.get("category", ()):
        for coding in concept.get("coding", ()):
            if coding.get("system") == LOINC_SYSTEM and coding.get("display"):
                return str(coding["display"])
    return "Biologie"


def chapters(dossier: Dossier) -> list[Chapter]:
    grouped: dict[str, list[Section]] = {}
    for observation in dossier.results:
        grouped.setdefault(_chapter_title(observation), []).append(_section(dossier, observation))
    return [Chapter(title, sections) for title, sections in grouped.items()]


def _specimen(specimen: Resource) -> SpecimenInfo:
    kind = (specimen.get("type") or {})
    label = kind.get("text") or next((c.get("display") or c.get("code") for c in kind.get("coding", ())), "Échantillon")
    return SpecimenInfo(label=str(label), accession=str((specimen.get("accessionIdentifier") or {}).get("value", "")),
                        collected_at=(specimen.get("collection") or {}).get("collectedDateTime"),
                        received_at=specimen.get("receivedTime"))


def issued(report: Resource) -> str:
    return str(report.get("issued") or instant(now_utc()))


def report_view(dossier: Dossier, version: Version, audience: str | None = None) -> ReportView:
    """``audience`` (SGL.DOC.02): the copy printed under the title; the caller gives the dossier as that copy
    shows it (``audience.for_audience``)."""
    report, profile = dossier.report, dossier.profile
    requisition = next((i.get("value") for i in report.get("identifier", ()) if i.get("value")), report["id"])
    interpreter: dict[str, Any] = next(iter(report.get("resultsInterpreter", ())), {})
    biologist = (_name(dossier.biologist) if dossier.biologist else str(interpreter.get("display") or "")) or (
        "" if is_autoverified(report) else profile.biologist_name)
    return ReportView(
        report_id=str(requisition), issued_at=issued(report), laboratory=profile.laboratory(),
        patient=PatientIdentity.from_patient(dossier.patient, local_id=ipp_of(dossier.patient)),
        chapters=chapters(dossier), validation=Validation(validated_at=issued(report), biologist=biologist),
        prescriber=Prescriber(_name(dossier.requester)) if dossier.requester else None,
        copies_to=[n for p in dossier.recipients if (n := _name(p))],
        specimens=[_specimen(s) for s in dossier.specimens],
        status="final" if report.get("status") in RESULT_FINAL else "partial",
        version=version.number,
        replaces=Replacement(version.replaced_issued_at, f"{report['id']}.{version.number - 1}")
        if version.number > 1 and version.replaced_issued_at else None,
        texts=profile.texts(), copy=COPY_LABEL[audience] if audience else None)


def validating_biologist(dossier: Dossier) -> Party:
    """The legalAuthenticator: the biologist who validated (resultsInterpreter, a Practitioner with RPPS, name and
    profession/specialty, working for this lab); the profile's responsible biologist only for a report validated
    by the rules."""
    found = dossier.biologist
    if found is None or not found.practitioner:
        return dossier.responsible or dossier.profile.responsible()
    return found if found.organization else replace(found, organization=dossier.profile.organization)


def crbio_input(dossier: Dossier, version: Version, pdf: bytes, audience: str | None = None) -> CrBioInput:
    """``audience`` (SGL.DOC.02): the patient version is a document set of its own (``<report>.pat``) and says
    which copy it is; the professional version keeps the single version's ids."""
    profile = dossier.profile
    mentions = profile.mentions()
    report = {**dossier.report, "issued": issued(dossier.report)}
    requester = dossier.requester or dossier.responsible or profile.responsible()
    recipients = [requester, *[p for p in dossier.recipients if p != requester]]
    return CrBioInput(
        report=report, patient=dossier.patient, laboratory=profile.organization,
        biologist=validating_biologist(dossier),
        requester=requester, version=document_ids(dossier, version.number, SERIES[audience] if audience else "",
                                                  replaces=audience != PATIENT or version.patient_copy_replaced),
        observations=dossier.observations,
        specimens=dossier.specimens, organizations=dossier.organizations, recipients=recipients,
        service_request=dossier.requests[0] if dossier.requests else None, pdf=pdf,
        confidentiality=confidentiality(dossier.report),
        mentions=replace(mentions, copy=COPY_LABEL[audience]) if audience else mentions,
        accredited=frozenset(o["id"] for o in dossier.observations if _accredited(dossier, o)),
        autoverified=frozenset(o["id"] for o in dossier.observations if is_autoverified(o)),
        identifier_oids=dict(profile.identifier_oids or {}))
