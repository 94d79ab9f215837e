"""Test set-up for analyzer tests: the seed catalogue in the store, and tubes with their orders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from resources.search.params import RESOURCE_TYPES
from terminology import catalog_to_fhir, load_seed_catalog
from terminology.catalog.fhir import CATALOG_SYSTEM

TUBE_SYSTEM = "https://opensgl.org/fhir/sid/tube"


async def seed_catalog(fhir: httpx.AsyncClient) -> None:
    """Make sure the seed catalogue is in the store: PUT, in one transaction, each catalogue resource the
    store does not hold yet (``sgl serve`` seeds it at start-up, so usually none).

    What is already stored is left as it is: a test on the same server may have edited a LOINC code through
    ``$set-loinc`` (and put it back, with new dates), and a plain PUT that changes LOINC codings is refused
    (SGL.LOI.08/09). Types the store does not serve are skipped: the analyzer workflow reads
    ObservationDefinition, ActivityDefinition and Device only.
    """
    entries = []
    for resource in catalog_to_fhir(load_seed_catalog()):
        url = f"{resource['resourceType']}/{resource['id']}"
        if resource["resourceType"] in RESOURCE_TYPES and (await fhir.get(url)).status_code == 404:
            entries.append({"resource": resource, "request": {"method": "PUT", "url": url}})
    if entries:
        answer = await fhir.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": entries})
        assert answer.status_code == 200, answer.text


@dataclass
class Tube:
    accession: str
    specimen_id: str
    patient_id: str
    requests: dict[str, str]
    """exam code -> ServiceRequest id."""


async def _post(fhir: httpx.AsyncClient, resource: dict[str, Any]) -> str:
    answer = await fhir.post(resource["resourceType"], json=resource)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def new_tube(fhir: httpx.AsyncClient, exams: tuple[str, ...] = ("GLY",), *,
                   collected: str = "2026-11-26T08:30:00+01:00") -> Tube:
    """A patient, a tube with a fresh accession number, and one active ServiceRequest per exam on it."""
    accession = "T" + uuid.uuid4().hex[:10].upper()
    patient = await _post(fhir, {"resourceType": "Patient", "name": [{"family": "MARTIN", "given": ["Claire"]}],
                                 "gender": "female", "birthDate": "1980-05-17"})
    specimen = await _post(fhir, {"resourceType": "Specimen", "status": "available",
                                  "accessionIdentifier": {"system": TUBE_SYSTEM, "value": accession},
                                  "subject": {"reference": f"Patient/{patient}"},
                                  "collection": {"collectedDateTime": collected}})
    requests = {}
    for exam in exams:
        requests[exam] = await _post(fhir, {
            "resourceType": "ServiceRequest", "status": "active", "intent": "order",
            "identifier": [{"system": "https://opensgl.org/fhir/sid/demande", "value": f"D-{accession}-{exam}"}],
            "code": {"coding": [{"system": CATALOG_SYSTEM, "code": exam}]},
            "subject": {"reference": f"Patient/{patient}"}, "specimen": [{"reference": f"Specimen/{specimen}"}]})
    return Tube(accession, specimen, patient, requests)


async def search(fhir: httpx.AsyncClient, rtype: str, **params: str) -> list[dict[str, Any]]:
    answer = await fhir.get(rtype, params={**params, "_count": "200"})
    assert answer.status_code == 200, answer.text
    return [e["resource"] for e in answer.json().get("entry", ()) if e.get("search", {}).get("mode") == "match"]


def coding(resource: dict[str, Any], system: str) -> str:
    return next((c["code"] for c in resource["code"]["coding"] if c["system"] == system), "")


INSTRUMENT_EXT = "https://opensgl.org/fhir/StructureDefinition/instrument-result"


def instrument(observation: dict[str, Any]) -> dict[str, Any]:
    """The ``instrument-result`` extension parts of an Observation: name -> value (flags as a list)."""
    ext = next(e for e in observation["extension"] if e["url"] == INSTRUMENT_EXT)
    out: dict[str, Any] = {}
    for part in ext["extension"]:
        value = next(v for k, v in part.items() if k.startswith("value"))
        if part["url"] == "flag":
            out.setdefault("flag", []).append(value)
        else:
            out[part["url"]] = value
    return out


async def worklist(fhir: httpx.AsyncClient, accession: str) -> list[dict[str, Any]]:
    """The open unmatched-result Tasks of one tube (by the accession in their input)."""
    tasks = await search(fhir, "Task", code="unmatched-result", status="requested")
    return [t for t in tasks if {"type": {"text": "accession"}, "valueString": accession} in t.get("input", ())]


def task_inputs(task: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in task.get("input", ()):
        out.setdefault(item["type"]["text"], []).append(item["valueString"])
    return out


# (HEM1 test code, catalogue analysis, a plausible value, its UCUM unit): a full blood count as the
# hematology analyzer of the seed catalogue reports it
HEMATO = [("WBC", "GB", "6.42", "10*9/L"), ("RBC", "GR", "4.61", "10*12/L"), ("HGB", "HB", "13.9", "g/dL"),
          ("HCT", "HT", "41.2", "%"), ("MCV", "VGM", "89.4", "fL"), ("MCH", "TCMH", "30.2", "pg"),
          ("MCHC", "CCMH", "33.7", "g/dL"), ("RDW-CV", "IDR", "12.9", "%"), ("PLT", "PLQ", "244", "10*9/L"),
          ("MPV", "VMP", "10.1", "fL"), ("NEUT%", "PNN", "58.3", "%"), ("EO%", "PNE", "2.1", "%"),
          ("BASO%", "PNB", "0.6", "%"), ("LYMPH%", "LYM", "30.4", "%"), ("MONO%", "MONO", "8.6", "%"),
          ("NEUT#", "PNNA", "3.74", "10*9/L"), ("EO#", "PNEA", "0.13", "10*9/L"), ("BASO#", "PNBA", "0.04", "10*9/L"),
          ("LYMPH#", "LYMA", "1.95", "10*9/L"), ("MONO#", "MONOA", "0.55", "10*9/L")]
