"""An order as FHIR: one ServiceRequest per exam sharing the ``requisition`` identifier, one Specimen per tube.

Correspondents (copy recipients of the report, SGL.MSS.15: at least ten per dossier) are the
extension ``result-copies-to`` (``valueReference`` to a PractitionerRole, Practitioner or
Organization) repeated on every ServiceRequest of the requisition. Why an extension: FHIR R4 has
no element for "send a copy of the results to"; ``performer`` is who carries out the exam,
``requester`` the one prescriber, and a CareTeam would be a second resource with a life of its
own for what is a property of the dossier. HL7 v2 carries the same thing in OBR-28 "Result Copies
To", and the AU Base IG made the same choice (an extension on ServiceRequest). Delivery reads it
from any ServiceRequest of the requisition.

Tubes: exams whose catalogue specimen type and container agree share a Specimen (its
``accessionIdentifier`` comes from the lab counter, see counters.py); a sender's own specimen
number (HL7 SPM-2) keeps specimens apart and is kept as ``Specimen.identifier``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from server.orders.counters import ACCESSION_SYSTEM
from server.orders.exams import OrderableExam

COPIES_TO_EXTENSION = "https://opensgl.org/fhir/StructureDefinition/result-copies-to"
LAB_CATEGORY = {"coding": [{"system": "http://snomed.info/sct", "code": "108252007",
                            "display": "Laboratory procedure"}]}
PLACER_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PLAC",
                           "display": "Placer Identifier"}]}

TubeKey = tuple[str, str, str]
"""(specimen type code, container code, sender's specimen number or '')."""


@dataclass(frozen=True)
class SenderSpecimen:
    """What the sender says about a specimen (HL7 SPM): its own number and when it was collected."""

    identifier: dict[str, Any] | None = None
    collected: str | None = None


@dataclass(frozen=True)
class OrderLine:
    exam: OrderableExam
    placer_number: dict[str, Any] | None = None
    """The placer's order number (HL7 ORC-2 / OBR-2) as an Identifier."""
    specimen: SenderSpecimen = field(default_factory=SenderSpecimen)
    requester: dict[str, Any] | None = None
    """This exam's prescriber when it differs from the order's (HL7: one ORC-12 per order)."""
    notes: tuple[str, ...] = ()
    """The prescriber's comments on this exam (HL7 NTE of the order): ``ServiceRequest.note``."""
    clinical: tuple[dict[str, Any], ...] = ()
    """Clinical information sent with this exam (HL7 OBX under its OBR): Observations without id nor subject,
    stored with the order and listed in ``ServiceRequest.supportingInfo``."""

    @property
    def tube(self) -> TubeKey:
        own = (self.specimen.identifier or {}).get("value", "")
        return (*self.exam.tube, own)


@dataclass(frozen=True)
class Requisition:
    patient: str
    """``Patient/<id>``."""
    requisition: dict[str, Any]
    authored: str
    lines: tuple[OrderLine, ...]
    requester: dict[str, Any] | None = None
    correspondents: tuple[dict[str, Any], ...] = ()
    collected: str | None = None
    priority: str | None = None

    def tubes(self) -> list[TubeKey]:
        """The distinct tubes, in the order the exams were given."""
        return list(dict.fromkeys(line.tube for line in self.lines))


def build_resources(order: Requisition, accessions: list[str]) -> list[dict[str, Any]]:
    """The clinical Observations, the ServiceRequests then the Specimens of ``order``, with fresh ids; one
    accession per tube."""
    tubes = order.tubes()
    if len(accessions) != len(tubes):
        raise ValueError(f"{len(tubes)} tubes need as many accession numbers, got {len(accessions)}")
    specimen_ids = {tube: str(uuid.uuid4()) for tube in tubes}
    clinical = [[{**obs, "id": str(uuid.uuid4()), "subject": {"reference": order.patient}} for obs in line.clinical]
                for line in order.lines]
    requests = [_service_request(order, line, specimen_ids[line.tube], [f"Observation/{o['id']}" for o in obs])
                for line, obs in zip(order.lines, clinical, strict=True)]
    specimens = [_specimen(order, tube, specimen_ids[tube], accession,
                           [(sr["id"], line) for sr, line in zip(requests, order.lines, strict=True)
                            if line.tube == tube])
                 for tube, accession in zip(tubes, accessions, strict=True)]
    return [obs for line_obs in clinical for obs in line_obs] + requests + specimens


def _service_request(order: Requisition, line: OrderLine, specimen_id: str,
                     supporting: list[str]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest", "id": str(uuid.uuid4()), "status": "active", "intent": "order",
        "category": [LAB_CATEGORY], "requisition": order.requisition, "code": line.exam.code,
        "subject": {"reference": order.patient}, "authoredOn": order.authored,
        "specimen": [{"reference": f"Specimen/{specimen_id}"}],
    }
    if line.exam.canonical:
        resource["instantiatesCanonical"] = [line.exam.canonical]
    if line.placer_number:
        resource["identifier"] = [{**line.placer_number, "type": PLACER_TYPE}]
    if line.requester or order.requester:
        resource["requester"] = line.requester or order.requester
    if order.priority:
        resource["priority"] = order.priority
    if supporting:
        resource["supportingInfo"] = [{"reference": ref} for ref in supporting]
    if line.notes:
        resource["note"] = [{"text": text} for text in line.notes]
    if order.correspondents:
        resource["extension"] = [{"url": COPIES_TO_EXTENSION, "valueReference": ref} for ref in order.correspondents]
    return resource


def _specimen(order: Requisition, tube: TubeKey, rid: str, accession: str,
              requests: list[tuple[str, OrderLine]]) -> dict[str, Any]:
    first = requests[0][1]
    resource: dict[str, Any] = {
        "resourceType": "Specimen", "id": rid, "status": "available",
        "accessionIdentifier": {"system": ACCESSION_SYSTEM, "value": accession},
        "type": first.exam.specimen_type, "subject": {"reference": order.patient},
        "request": [{"reference": f"ServiceRequest/{sid}"} for sid, _ in requests],
        "container": [{"type": first.exam.container}],
    }
    if first.specimen.identifier:
        resource["identifier"] = [first.specimen.identifier]
    collected = first.specimen.collected or order.collected
    if collected:
        resource["collection"] = {"collectedDateTime": collected}
    return resource
