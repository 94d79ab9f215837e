"""MSSanté end-to-end dossiers: correspondents with (or without) an MSSanté address, a report validated the way
the lab validates it, and readers for the mails the simulator received (shared by the MSSanté e2e modules)."""

from __future__ import annotations

import uuid
from email import message_from_bytes
from email.policy import default
from typing import Any

from tests.support import crbio_samples as samples
from tests.support.documents_wait import wait_for_documents
from tests.support.validation_lab import Lab, parameters

COPIES_TO = "https://opensgl.org/fhir/StructureDefinition/result-copies-to"
REQUISITION_SYSTEM = "https://opensgl.org/sid/demande"


async def doctor(lab: Lab, n: int, address: str | None) -> str:
    """A PractitionerRole reference; ``address`` as its e-mail telecom (an MSSanté one or not), or none."""
    telecom = [{"system": "phone", "value": f"010203040{n % 10}"}]
    if address:
        telecom.append({"system": "email", "value": address})
    person = await lab.store.create({"resourceType": "Practitioner",
                                     "name": [{"family": f"CORRESPONDANT{n}", "given": ["Claire"]}]})
    role = await lab.store.create({"resourceType": "PractitionerRole", "practitioner": {
        "reference": f"Practitioner/{person.id}"}, "telecom": telecom})
    return f"PractitionerRole/{role.id}"


async def ordered(lab: Lab, *, qualified: bool, correspondents: list[str]) -> tuple[str, dict[str, Any]]:
    """(patient id, ServiceRequest) with the first correspondent as prescriber, the others as copies."""
    body = samples.patient(qualified)
    body.pop("id")
    pid = (await lab.store.create(body)).id
    request = await lab.client.post("ServiceRequest", json={
        "resourceType": "ServiceRequest", "status": "active", "intent": "order",
        "subject": {"reference": f"Patient/{pid}"}, "code": {"text": "bilan"},
        "requisition": {"system": REQUISITION_SYSTEM, "value": uuid.uuid4().hex[:12]},
        "requester": {"reference": correspondents[0]},
        "extension": [{"url": COPIES_TO, "valueReference": {"reference": r}} for r in correspondents[1:]]})
    assert request.status_code == 201, request.text
    return pid, dict(request.json())


async def validated(lab: Lab, *, qualified: bool, correspondents: list[str], wait: bool = True) -> str:
    """Order with a prescriber and correspondents, one result, technically then biologically validated, documents
    made (``wait=False``: being made in the background); the report id."""
    pid, request = await ordered(lab, qualified=qualified, correspondents=correspondents)
    return await validate_one(lab, pid, request["id"], wait=wait)


async def validate_one(lab: Lab, pid: str, request_id: str, *, wait: bool = True) -> str:
    rid = await lab.result(pid, request_id, "GLU", 1.05)
    assert (await lab.validate(rid)).status_code == 200
    report = await lab.report_of(rid)
    answer = await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    if wait:
        await wait_for_documents(lab.client, report["id"])
    return str(report["id"])


async def correspondents_report(lab: Lab, addresses: list[str], *, first: int, qualified: bool = True
                                ) -> tuple[list[str], str]:
    """Correspondents at ``addresses`` (numbered from ``first``) and a report of theirs validated, documents made:
    (their references, the report id)."""
    refs = [await doctor(lab, first + n, a) for n, a in enumerate(addresses)]
    return refs, await validated(lab, qualified=qualified, correspondents=refs)


def attachment(raw: bytes, name: str) -> bytes:
    message = message_from_bytes(raw, policy=default)
    part = next(p for p in message.walk() if p.get_filename() == name)
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


def body_text(raw: bytes) -> str:
    body = message_from_bytes(raw, policy=default).get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def states(found: list[dict[str, Any]], *wanted: str) -> bool:
    return bool(found) and all(d["state"] in wanted for d in found)


def mss(found: list[dict[str, Any]], action: str | None = None) -> list[dict[str, Any]]:
    return [d for d in found if d["channel"] == "mssante" and (action is None or d["action"] == action)]
