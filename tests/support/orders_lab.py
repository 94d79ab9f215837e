"""Order test material: the catalogue in the store, a patient, a prescriber and correspondents
(``People``), and small helpers to post an order and read what it wrote."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

import terminology
from server.database import Database

CATALOGUE = "https://opensgl.org/fhir/CodeSystem/catalogue"
_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_seq):05d}"


async def ensure_catalogue(sgl_db: Database) -> None:
    """The seed catalogue in the store, unless start-up already loaded it (same ids: idempotent)."""
    store = sgl_db.store
    if await sgl_db.db["ActivityDefinition"].find_one({"_id": "exam-GLY"}) is not None:
        return
    async with store.transaction() as session:
        for resource in terminology.catalog_to_fhir(terminology.load_seed_catalog()):
            await store.update(resource, session=session)


def patient_body(family: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": family, "given": ["Dominique"]}],
        "birthDate": "1979-03-28", "gender": "female",
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueAddress": {
            "extension": [{"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code",
                           "valueCoding": {"system": "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/"
                                                     "TRE-R13-CommuneOM", "code": "63220"}}]}}],
    }


async def created(fhir: httpx.AsyncClient, body: dict[str, Any]) -> str:
    resp = await fhir.post(body["resourceType"], json=body)
    assert resp.status_code == 201, resp.text
    return f"{body['resourceType']}/{resp.json()['id']}"


async def practitioner_role(fhir: httpx.AsyncClient, family: str) -> str:
    rpps = unique("810")
    practitioner = await created(fhir, {"resourceType": "Practitioner", "name": [{"family": family}],
                                        "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": rpps}]})
    return await created(fhir, {"resourceType": "PractitionerRole", "practitioner": {"reference": practitioner}})


@dataclass
class People:
    patient: str
    requester: str
    correspondents: list[str]


def order_parameters(people: People, exams: list[str], *, correspondents: int = 0, refusals: tuple[str, ...] = (),
                     collected: str | None = "2026-11-26T07:45:00+01:00") -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": "patient", "valueReference": {"reference": people.patient}},
        {"name": "requester", "valueReference": {"reference": people.requester}},
        *({"name": "correspondent", "valueReference": {"reference": c}}
          for c in people.correspondents[:correspondents]),
        *({"name": "exam", "valueCoding": {"system": CATALOGUE, "code": e}} for e in exams),
        *({"name": "refusal", "valueCode": r} for r in refusals),
    ]
    if collected:
        params.append({"name": "collected", "valueDateTime": collected})
    return {"resourceType": "Parameters", "parameter": params}


def written(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


async def count(sgl_db: Database, rtype: str) -> int:
    return int(await sgl_db.db[rtype].count_documents({}))
