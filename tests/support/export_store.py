"""A store filled for the export tests and bench: patients with a report, its results and its CR-Bio
(a DocumentReference per format pointing to a Binary), written straight through the store in bulk, in the
shapes the lab's own workflows write (FR Core identifiers, LOINC codes, report -> documents links)."""

from __future__ import annotations

import base64
from typing import Any

from resources.store.mongo import MongoFhirStore

LOINC = "http://loinc.org"
TESTS = (("2345-7", "Glucose", "mmol/L", 5.4), ("2160-0", "Créatinine", "umol/L", 80.0),
         ("718-7", "Hémoglobine", "g/dL", 14.1))


def patient(i: int) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": f"pat-{i}", "active": True,
            "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                 "code": "PI"}]},
                            "system": "urn:oid:1.2.250.1.999.1.1", "value": f"IPP{i:07d}"}],
            "name": [{"use": "official", "family": f"PATIENT{i}", "given": ["Test"]}],
            "gender": "female" if i % 2 else "male", "birthDate": f"{1940 + i % 60}-0{1 + i % 9}-1{i % 9}"}


def dossier(i: int, *, documents: bool) -> list[dict[str, Any]]:
    """A patient's report, results and (when ``documents``) its PDF CR-Bio."""
    subject = {"reference": f"Patient/pat-{i}"}
    results = [{"resourceType": "Observation", "id": f"obs-{i}-{n}", "status": "final", "subject": subject,
                "code": {"coding": [{"system": LOINC, "code": code, "display": label}]},
                "valueQuantity": {"value": value + i % 7, "unit": unit}, "effectiveDateTime": "2026-11-30T08:00:00Z"}
               for n, (code, label, unit, value) in enumerate(TESTS)]
    report = {"resourceType": "DiagnosticReport", "id": f"rep-{i}", "status": "final", "subject": subject,
              "code": {"coding": [{"system": LOINC, "code": "11502-2"}]}, "issued": "2026-11-30T10:00:00Z",
              "result": [{"reference": f"Observation/{r['id']}"} for r in results]}
    out = [*results, report]
    if documents:
        pdf = b"%PDF-1.4\n% CR-Bio " + f"rep-{i}".encode() + b"\n%%EOF\n"
        out.append({"resourceType": "Binary", "id": f"rep-{i}-pdf-v1", "contentType": "application/pdf",
                    "data": base64.b64encode(pdf).decode()})
        out.append({"resourceType": "DocumentReference", "id": f"rep-{i}-pdf-v1", "status": "current",
                    "subject": subject, "date": "2026-11-30T10:00:00Z",
                    "content": [{"attachment": {"contentType": "application/pdf", "url": f"Binary/rep-{i}-pdf-v1"},
                                 "format": {"code": "pdf-a-1b", "display": "PDF/A-1b"}}],
                    "context": {"related": [{"reference": f"DiagnosticReport/rep-{i}"}]}})
    return out


async def fill(store: MongoFhirStore, patients: range, *, documents_every: int = 10, batch: int = 100) -> int:
    """Write ``patients`` and their dossiers; return the number of resources."""
    total = 0
    pending: list[tuple[dict[str, Any], str | None]] = []
    for i in patients:
        for resource in (patient(i), *dossier(i, documents=i % documents_every == 0)):
            pending.append((resource, resource["id"]))
        if len(pending) >= batch:
            await store.create_many(pending)
            total += len(pending)
            pending = []
    if pending:
        await store.create_many(pending)
        total += len(pending)
    return total
