"""Hospital setting (``SGL_MSS_AUTOMATIC=false``): nothing goes out on validation; a biologist chooses who receives
the CR-Bio with ``$mssante-send`` and the mails go through the outbox to the real simulator process. Every way a
choice is refused is checked before anything is written (SGL.MSS.12, .16, .18, .19, .21, ANN.05)."""

from __future__ import annotations

import asyncio
import base64
import io
import zipfile
from typing import Any

import httpx
import pytest

from tests.support.delivery_lab import DeliveryLab, deliveries, wait_until
from tests.support.mssante_dossiers import (
    attachment,
    correspondents_report,
    doctor,
    mss,
    ordered,
    states,
    validate_one,
    validated,
)
from tests.support.mssante_operator import OperatorProcess
from tests.support.mssante_site import mssante_fixtures
from tests.support.validation_lab import issue

BAL = "labo-resultats@chu-opensgl.mssante.fr"
INS = "279035121518989"
PATIENT_ADDRESS = f"{INS}@patient.mssante.fr"


operator, dl = mssante_fixtures("mss-hospital", BAL, SGL_MSS_AUTOMATIC="false", SGL_MSS_RECEIPTS_POLL="30")


def _send(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(parts)}


def _to(reference: str) -> dict[str, Any]:
    return {"name": "recipient", "valueReference": {"reference": reference}}


PATIENT = {"name": "patient", "valueBoolean": True}


async def _post(client: httpx.AsyncClient, report_id: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"DiagnosticReport/{report_id}/$mssante-send", json=body)


@pytest.mark.req("SGL.MSS.18")
@pytest.mark.req("SGL.MSS.21")
async def test_hospital_sends_only_to_the_chosen_recipients_SGL_MSS_18_SGL_MSS_21(
        dl: DeliveryLab, operator: OperatorProcess) -> None:
    pros = ["interne@chu-service.mssante.fr", "traitant@cabinet-h.mssante.fr"]
    refs, report_id = await correspondents_report(dl.lab, pros, first=40)
    assert mss(await deliveries(dl.lab.client, report_id)) == []  # the documents are ready: nothing went out

    answer = await _post(dl.lab.client, report_id, _send(_to(refs[1]), PATIENT))
    assert answer.status_code == 200, answer.text
    keys = [p["valueString"] for p in answer.json()["parameter"]]
    assert keys[0] == f"mssante:{pros[1]}:{report_id}:v1:publish" and keys[1].startswith("mssante:patient:Patient/")
    assert INS not in " ".join(keys)
    found = await wait_until(dl.lab.client, report_id, lambda f: len(mss(f)) == 2 and states(mss(f), "delivered"))
    assert all(d["recipient_extra"]["chosen_by"] for d in mss(found))  # who chose is kept with the delivery
    assert await asyncio.to_thread(operator.messages, pros[0]) == []  # not chosen: not sent
    [mail] = await asyncio.to_thread(operator.messages, pros[1], raw=True)
    [to_patient] = await asyncio.to_thread(operator.messages, PATIENT_ADDRESS, raw=True)
    for received in (mail, to_patient):  # same format as the automatic sending
        assert received["attachments"][0] == "IHE_XDM.ZIP" and received["attachments"][1].startswith("CR-BIO_")
        archive = zipfile.ZipFile(io.BytesIO(attachment(base64.b64decode(received["raw"]), "IHE_XDM.ZIP")))
        assert "IHE_XDM/SUBSET01/METADATA.XML" in archive.namelist()
    assert to_patient["headers"]["X-MSS-INS"] == "O"

    again = await _post(dl.lab.client, report_id, _send(_to(refs[1]), _to(refs[0])))
    assert [p["valueString"] for p in again.json()["parameter"]] == [
        f"already {keys[0]}", f"mssante:{pros[0]}:{report_id}:v1:publish"]
    await wait_until(dl.lab.client, report_id, lambda f: len(mss(f)) == 3 and states(mss(f), "delivered"))
    assert len(await asyncio.to_thread(operator.messages, pros[1])) == 1  # never twice the same version


@pytest.mark.req("SGL.MSS.12")
@pytest.mark.req("SGL.MSS.16")
@pytest.mark.req("SGL.MSS.19")
async def test_refused_choices_write_nothing_SGL_MSS_12_SGL_MSS_16_SGL_MSS_19(dl: DeliveryLab) -> None:
    with_address = await doctor(dl.lab, 50, "refus@cabinet-r.mssante.fr")
    without = await doctor(dl.lab, 51, "secretariat@cabinet-r.fr")  # an ordinary mail address is not MSSanté
    report_id = await validated(dl.lab, qualified=False, correspondents=[with_address, without])
    desk = await dl.act_as("secretaire")
    assert (await _post(desk, report_id, _send(_to(with_address)))).status_code == 403
    cases = [
        (_send(), 400, "choose at least one recipient"),
        (_send(_to("Patient/123")), 400, "is not a stored PractitionerRole"),
        (_send(_to("PractitionerRole/inconnu")), 400, "is not a stored PractitionerRole"),
        (_send(_to(without)), 400, "has no MSSanté address"),
        (_send({"name": "address", "valueString": "docteur@gmail.com"}), 400, "is not an MSSanté address"),
        (_send({"name": "patient", "valueString": "oui"}), 400, "valueBoolean"),
        (_send({"name": "copie", "valueString": "x"}), 400, "unknown parameter"),
        (_send(_to(with_address), PATIENT), 422, "SGL.MSS.12"),  # provisional identity: no patient address
    ]
    for body, status, words in cases:
        answer = await _post(dl.lab.client, report_id, body)
        assert answer.status_code == status, (body, answer.text)
        assert words in issue(answer)["diagnostics"]
    not_made = await dl.lab.client.post("DiagnosticReport", json={
        "resourceType": "DiagnosticReport", "status": "registered", "code": {"text": "bilan"}})
    answer = await _post(dl.lab.client, not_made.json()["id"], _send(_to(with_address)))
    assert answer.status_code == 409 and "no ready CR-Bio" in issue(answer)["diagnostics"]
    assert mss(await deliveries(dl.lab.client, report_id)) == []  # nothing half-written

    pid, request = await ordered(dl.lab, qualified=True, correspondents=[with_address])
    for channel in ("mssante-pro", "mssante-patient"):
        refusal = await dl.lab.client.post("ServiceRequest/$refusal", json=_send(
            {"name": "requisition", "valueIdentifier": request["requisition"]},
            {"name": "channel", "valueCode": channel}, {"name": "refused", "valueBoolean": True}))
        assert refusal.status_code in (200, 201), refusal.text
    refused_report = await validate_one(dl.lab, pid, request["id"])
    for body, rule in ((_send(_to(with_address)), "SGL.MSS.16"), (_send(PATIENT), "SGL.MSS.19")):
        answer = await _post(dl.lab.client, refused_report, body)
        assert answer.status_code == 422 and rule in issue(answer)["diagnostics"], answer.text
    assert mss(await deliveries(dl.lab.client, refused_report)) == []
