"""Test data for the validation workflow: patients, orders and analyzer results, and the catalogue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from resources.store.mongo import MongoFhirStore
from terminology import catalog_to_fhir, load_seed_catalog

CATALOG = "https://opensgl.org/fhir/CodeSystem/catalogue"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
STEP = "https://opensgl.org/fhir/CodeSystem/validation-step"
UNITS = {a.code: a.unit.code for a in load_seed_catalog().analyses if a.unit}
"""Each analysis' catalogue (UCUM) unit, the one an analyzer result is sent in."""


async def seed_definitions(client: httpx.AsyncClient) -> None:
    """The catalogue's ObservationDefinitions, unless already stored (conditional creates: idempotent)."""
    entries = [{"resource": r, "request": {"method": "POST", "url": "ObservationDefinition",
                                           "ifNoneExist": f"identifier={CATALOG}|{r['identifier'][0]['value']}"}}
               for r in catalog_to_fhir(load_seed_catalog()) if r["resourceType"] == "ObservationDefinition"]
    answer = await client.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": entries})
    assert answer.status_code == 200, answer.text


def codes(resource: dict[str, Any], system: str = V3) -> set[str]:
    return {c["code"] for i in resource.get("interpretation", ()) for c in i.get("coding", ())
            if c.get("system") == system}


def steps(resource: dict[str, Any]) -> set[str]:
    return {t["code"] for t in (resource.get("meta") or {}).get("tag", ()) if t.get("system") == STEP}


@dataclass
class Lab:
    client: httpx.AsyncClient
    store: MongoFhirStore
    auditor: httpx.AsyncClient | None = None
    """Reads the trail when ``client``'s role may not (a technician does not read Provenances)."""

    async def patient(self, gender: str = "male", birth: str = "1980-01-01") -> str:
        """Stored directly: the Patient write rule's identitovigilance is not what these tests are about."""
        stored = await self.store.create({"resourceType": "Patient", "gender": gender, "birthDate": birth,
                                          "name": [{"use": "official", "family": "VALIDATION", "given": ["Test"]}]})
        return stored.id

    async def order(self, patient: str, requests: int = 1) -> list[str]:
        requisition = {"system": "https://opensgl.org/sid/demande", "value": uuid.uuid4().hex[:12]}
        ids = []
        for _ in range(requests):
            answer = await self.client.post("ServiceRequest", json={
                "resourceType": "ServiceRequest", "status": "active", "intent": "order",
                "subject": {"reference": f"Patient/{patient}"}, "requisition": requisition,
                "code": {"text": "bilan"}})
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["id"])
        return ids

    async def result(self, patient: str, request: str, code: str, value: float | dict[str, Any] | None, *,
                     when: str = "2026-11-20T08:00:00+01:00", status: str = "preliminary",
                     unit: str | None = None, category: str = "laboratory") -> str:
        body: dict[str, Any] = {
            "resourceType": "Observation", "status": status,
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": category}]}],
            "code": {"coding": [{"system": CATALOG, "code": code}]},
            "subject": {"reference": f"Patient/{patient}"}, "basedOn": [{"reference": f"ServiceRequest/{request}"}],
            "effectiveDateTime": when,
        }
        if isinstance(value, dict):
            body["valueCodeableConcept"] = value
        elif value is not None:
            u = unit or UNITS[code]
            body["valueQuantity"] = {"value": value, "unit": u, "system": UCUM, "code": u}
        answer = await self.client.post("Observation", json=body)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    async def read(self, rtype: str, rid: str) -> dict[str, Any]:
        answer = await self.client.get(f"{rtype}/{rid}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def validate(self, rid: str, note: str | None = None) -> httpx.Response:
        params = [{"name": "note", "valueString": note}] if note else []
        return await self.client.post(f"Observation/{rid}/$validate-technical",
                                      json={"resourceType": "Parameters", "parameter": params})

    async def report_of(self, rid: str) -> dict[str, Any]:
        answer = await self.client.get("DiagnosticReport", params={"result": f"Observation/{rid}"})
        entries = [e["resource"] for e in answer.json().get("entry", ()) if e["search"]["mode"] == "match"]
        assert len(entries) == 1, answer.text
        return dict(entries[0])

    async def provenances(self, rtype: str, rid: str, vid: str | int) -> list[dict[str, Any]]:
        """The Provenances naming that exact version (the search matches any version of the resource)."""
        answer = await (self.auditor or self.client).get("Provenance", params={"target": f"{rtype}/{rid}"})
        exact = {"reference": f"{rtype}/{rid}/_history/{vid}"}
        return [e["resource"] for e in answer.json().get("entry", ())
                if e["search"]["mode"] == "match" and exact in e["resource"]["target"]]


def parameters(**values: Any) -> dict[str, Any]:
    out = []
    for name, v in values.items():
        if isinstance(v, dict):
            out.append({"name": name, **v})
        else:
            out.append({"name": name, "valueString": v})
    return {"resourceType": "Parameters", "parameter": out}


def issue(answer: httpx.Response) -> dict[str, Any]:
    body = answer.json()
    assert body["resourceType"] == "OperationOutcome", body
    return dict(body["issue"][0])
