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
    """PUT each catalogue resource under its own id in one transaction (idempotent: same content, no new version).

    Types the store does not serve yet (SpecimenDefinition until a colleague adds it) are skipped: the
    analyzer workflow reads ObservationDefinition, ActivityDefinition and Device only.
    """
    entries = [{"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
               for r in catalog_to_fhir(load_seed_catalog()) if r["resourceType"] in RESOURCE_TYPES]
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
