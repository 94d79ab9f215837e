"""Gathering: everything one CR-Bio is made of, read once from the store, for both views (PDF and CDA).

``gather`` runs inside the transaction that writes the report (``session``): by-id reads see the
step's own writes (results made final a moment ago). The previous value of each result is the last
final result of the same patient and analysis collected before it, read from committed data.
The catalogue gives each result its label, LOINC_SYSTEM code, chapter, sub-chapter, decimals and Cofrac flag.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from facades.cda import Party
from resources import interactions
from resources.codes import RESULT_FINAL
from resources.errors import NotFound
from resources.store.base import FhirStore, StoreSession
from server.documents.profile import RPPS_SYSTEM, LabProfile
from server.stored_catalog import CatalogRepository, read_catalog
from terminology import CATALOG_SYSTEM, LOINC_SYSTEM
from terminology.catalog import Analysis
from terminology.catalog.model import Catalog

Resource = dict[str, Any]
COPIES_TO = "https://opensgl.org/fhir/StructureDefinition/result-copies-to"
FINAL_STATES = RESULT_FINAL
FINAL = ",".join(sorted(RESULT_FINAL))  # as a search value
_NOT_DOCUMENTED = ("meta", "text", "presentedForm", "result", "specimen", "extension")
MAX_MEMBERS = 500


@dataclass(frozen=True)
class Previous:
    value: str
    date: str


@dataclass
class Dossier:
    """One report and what it reaches; observations carry the catalogue's LOINC_SYSTEM code and chapter."""

    report: Resource
    patient: Resource
    requests: list[Resource]
    observations: list[Resource]
    specimens: list[Resource]
    requester: Party | None
    recipients: list[Party]
    biologist: Party | None
    profile: LabProfile
    organizations: list[Resource] = field(default_factory=list)
    analyses: dict[str, Analysis] = field(default_factory=dict)
    previous: dict[str, Previous] = field(default_factory=dict)
    catalog: Catalog | None = None
    responsible: Party | None = None
    """The lab's responsible biologist as a stored Practitioner (found by the profile's RPPS), if any: the
    CDA author of reports no biologist signed by reference; None: built from the profile."""

    def observation(self, reference: str) -> Resource | None:
        ident = reference.removeprefix("Observation/")
        return next((o for o in self.observations if o.get("id") == ident), None)

    @property
    def results(self) -> list[Resource]:
        """The report's biologically validated results: only those are documented (a technically
        validated one waits for the biologist and appears in a later version)."""
        return [o for r in self.report.get("result", ()) if (o := self.observation(r.get("reference", "")))
                and o.get("status") in FINAL_STATES]

    def fingerprint(self) -> str:
        """What the documents are made of: the report (result list aside) and each documented result's version."""
        report = {k: v for k, v in self.report.items() if k not in _NOT_DOCUMENTED}
        results = [(o["id"], (o.get("meta") or {}).get("versionId")) for o in self.observations
                   if o.get("status") in FINAL_STATES]
        return hashlib.sha1(json.dumps([report, results], sort_keys=True).encode()).hexdigest()


async def _read(store: FhirStore, reference: str, session: StoreSession | None) -> Resource | None:
    kind, _, ident = reference.partition("/")
    if not kind or not ident:  # e.g. a PractitionerRole without organization (FR Core allows it)
        return None
    try:
        return (await store.read(kind, ident, session=session)).resource
    except NotFound:
        return None


async def party(store: FhirStore, reference: dict[str, Any], session: StoreSession | None) -> Party | None:
    """A PractitionerRole (with its Practitioner and Organization), a Practitioner or an Organization."""
    ref = str(reference.get("reference") or "")
    found = await _read(store, ref, session) if "/" in ref else None
    if found is None:
        return None
    kind = found["resourceType"]
    if kind == "Organization":
        return Party({}, None, found)
    if kind == "Practitioner":
        return Party(found)
    practitioner = await _read(store, (found.get("practitioner") or {}).get("reference", ""), session) or {}
    organization = await _read(store, (found.get("organization") or {}).get("reference", ""), session)
    return Party(practitioner, found, organization)


def analysis_of(catalog: Catalog, observation: Resource) -> Analysis | None:
    for coding in (observation.get("code") or {}).get("coding", ()):
        if coding.get("system") == CATALOG_SYSTEM:
            return next((a for a in catalog.analyses if a.code == coding.get("code")), None)
        if coding.get("system") == LOINC_SYSTEM:
            found = next((a for a in catalog.analyses if a.loinc and a.loinc.code == coding.get("code")), None)
            if found:
                return found
    return None


def enriched(observation: Resource, catalog: Catalog, analysis: Analysis | None) -> Resource:
    """The result with the catalogue's LOINC coding, label and LOINC chapter category (both views use them)."""
    out = copy.deepcopy(observation)
    if analysis is None:
        return out
    code = out.setdefault("code", {})
    codings = code.setdefault("coding", [])
    if analysis.loinc and not any(c.get("system") == LOINC_SYSTEM for c in codings):
        codings.insert(0, {"system": LOINC_SYSTEM, "code": analysis.loinc.code, "display": analysis.loinc.display})
    code.setdefault("text", analysis.label)
    chapter = next((c for c in catalog.chapters if c.code == analysis.chapter), None)
    if chapter and chapter.loinc:
        out["category"] = [{"coding": [{"system": LOINC_SYSTEM, "code": chapter.loinc.code, "display": chapter.label}]}]
    return out


def value_text(observation: Resource, decimals: int | None = None) -> str:
    quantity = observation.get("valueQuantity")
    if quantity and quantity.get("value") is not None:
        value = quantity["value"]
        # the catalogue's presentation of the analysis, else as received (1.50 stays 1.50)
        text = f"{float(value):.{decimals}f}" if decimals is not None else str(value)
        return f"{quantity.get('comparator', '')}{text}"
    concept = observation.get("valueCodeableConcept")
    if concept:
        return str(concept.get("text") or next((c.get("display") or c.get("code") for c in concept.get("coding", ())),
                                                ""))
    return str(observation.get("valueString") or "")


async def _previous(store: FhirStore, observation: Resource, decimals: int | None) -> Previous | None:
    codings = list((observation.get("code") or {}).get("coding", ()))
    coding = next((c for c in codings if c.get("system") == CATALOG_SYSTEM), codings[0] if codings else None)
    subject, when = (observation.get("subject") or {}).get("reference"), observation.get("effectiveDateTime")
    if not coding or not subject or not when:
        return None
    query = [("patient", subject), ("code", f"{coding.get('system', '')}|{coding.get('code')}"), ("status", FINAL),
             ("date", f"lt{when}"), ("_sort", "-date"), ("_count", "2")]
    bundle = await interactions.search(store, "Observation", query, base="")
    for entry in bundle.get("entry", ()):
        found = entry["resource"]
        if entry["search"]["mode"] == "match" and found["id"] != observation.get("id") and value_text(found):
            return Previous(value_text(found, decimals), str(found.get("effectiveDateTime", ""))[:10])
    return None


async def _observations(store: FhirStore, report: Resource, session: StoreSession | None) -> list[Resource]:
    """The report's results and, recursively, their members (batteries, isolates, antibiograms)."""
    out: list[Resource] = []
    pending = [r.get("reference", "") for r in report.get("result", ())]
    while pending and len(out) < MAX_MEMBERS:
        ref = pending.pop(0)
        if any(f"Observation/{o['id']}" == ref for o in out):
            continue
        found = await _read(store, ref, session)
        if found:
            out.append(found)
            pending += [m.get("reference", "") for m in found.get("hasMember", ())]
    return out


async def responsible(store: FhirStore, profile: LabProfile) -> Party | None:
    """The Practitioner holding the responsible biologist's RPPS (FR Core, with its qualifications), if stored."""
    rpps = profile.responsible_biologist.get("rpps")
    if not rpps:
        return None
    query = [("identifier", f"{RPPS_SYSTEM}|{rpps}"), ("_count", "2")]
    bundle = await interactions.search(store, "Practitioner", query, base="")
    found = [e["resource"] for e in bundle.get("entry", ()) if e["search"]["mode"] == "match"]
    return Party(found[0], None, profile.organization) if len(found) == 1 else None


async def gather(store: FhirStore, report: Resource, profile: LabProfile, *, session: StoreSession | None = None,
                 catalogue: CatalogRepository | None = None) -> Dossier:
    """``catalogue``: a long-lived repository that re-reads the catalogue only when it changed."""
    patient = await _read(store, (report.get("subject") or {}).get("reference", ""), session)
    if patient is None:
        raise NotFound("the report's subject is not a stored Patient", expression="DiagnosticReport.subject")
    requests = [r for b in report.get("basedOn", ()) if (r := await _read(store, b.get("reference", ""), session))]
    catalog = (await (catalogue.current() if catalogue else read_catalog(store))).catalog
    raw = await _observations(store, report, session)
    analyses = {o["id"]: a for o in raw if (a := analysis_of(catalog, o))}
    observations = [enriched(o, catalog, analyses.get(o["id"])) for o in raw]
    specimen_refs = dict.fromkeys([s.get("reference", "") for s in report.get("specimen", ())]
                                  + [(o.get("specimen") or {}).get("reference", "") for o in observations])
    specimens = [s for ref in specimen_refs if ref and (s := await _read(store, ref, session))]
    requester_ref = next((r["requester"] for r in requests if r.get("requester")), None)
    requester = await party(store, requester_ref, session) if requester_ref else None
    copies = dict.fromkeys(e["valueReference"]["reference"] for r in requests for e in r.get("extension", ())
                           if e.get("url") == COPIES_TO and (e.get("valueReference") or {}).get("reference"))
    recipients = [p for ref in copies if (p := await party(store, {"reference": ref}, session))]
    interpreter = next(iter(report.get("resultsInterpreter", ())), None)
    biologist = await party(store, interpreter, session) if interpreter and interpreter.get("reference") else None
    performers = dict.fromkeys(p["reference"] for o in observations for p in o.get("performer", ())
                               if str(p.get("reference", "")).startswith("Organization/"))
    organizations = [org for ref in performers if (org := await _read(store, ref, session))]
    dossier = Dossier(report, patient, requests, observations, specimens, requester, recipients, biologist, profile,
                      organizations, analyses, catalog=catalog, responsible=await responsible(store, profile))
    for observation in dossier.results:
        analysis = analyses.get(observation["id"])
        found = await _previous(store, observation, analysis.decimals if analysis else None)
        if found:
            dossier.previous[observation["id"]] = found
    return dossier
