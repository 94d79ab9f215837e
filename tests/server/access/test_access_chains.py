"""A chained search reads the chained type on the caller's behalf: the caller needs ``read`` on it.

Found by probing a running server as an analyzer would (role ``automate``: may read orders, may not read
identities): ``ServiceRequest?subject:Patient.family=dupont`` answered 200 with the count of that patient's
orders, so an analyzer could learn which names are patients of the lab without any right on Patient.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.access import ActAs

pytestmark = pytest.mark.db


@pytest.mark.req("SGL.INS.05")
async def test_a_chain_into_a_type_the_caller_may_not_read_is_refused_SGL_INS_05(act_as: ActAs,
                                                                                  fhir: httpx.AsyncClient) -> None:
    family = "Chaine" + uuid.uuid4().hex[:8]
    patient = await fhir.post("Patient", json={"resourceType": "Patient", "name": [{"family": family,
                                                                                   "given": ["Anne"]}],
                                               "gender": "female", "birthDate": "1970-01-02"})
    assert patient.status_code == 201, patient.text
    order = await fhir.post("ServiceRequest", json={
        "resourceType": "ServiceRequest", "status": "active", "intent": "order",
        "subject": {"reference": f"Patient/{patient.json()['id']}"}, "code": {"text": "glycémie"}})
    assert order.status_code == 201, order.text
    chain = {"subject:Patient.family": family}
    allowed = await fhir.get("ServiceRequest", params=chain)
    assert allowed.status_code == 200 and allowed.json()["total"] == 1, allowed.text

    robot = await act_as("automate")
    assert (await robot.get("ServiceRequest", params={"_id": order.json()["id"]})).json()["total"] == 1
    refused = await robot.get("ServiceRequest", params=chain)
    assert refused.status_code == 403, refused.text
    assert "read on Patient" in refused.text and refused.json()["resourceType"] == "OperationOutcome"
    batch = await robot.post("", json={"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": f"ServiceRequest?subject:Patient.family={family}"}}]})
    assert batch.status_code == 200, batch.text
    [entry] = batch.json()["entry"]
    assert entry["response"]["status"] == "403" and "read on Patient" in str(entry), entry
