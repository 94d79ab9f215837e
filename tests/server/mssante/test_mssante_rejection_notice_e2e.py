"""End to end: a refused tube's notice reaches its requester over MSSanté, through the real outbox (issue 15).

A dedicated ``sgl serve`` configured with ``SGL_MSS_*`` and a real ``sgl mssante-simulator`` process (SMTP and
IMAP with STARTTLS and client certificates on loopback). The tube is refused the ways a lab and its partners
do it: the reception's ``PUT Specimen`` (If-Match), a ``POST Specimen`` already ``unsatisfactory``, a transaction
Bundle carrying the order and the refused tube together. The mail is read back from the simulator; the
notice's state through ``Communication/{id}/$deliveries`` as the workbench reads it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support import crbio_samples as samples
from tests.support.delivery_lab import DEADLINE_S, DeliveryLab
from tests.support.mssante_dossiers import body_text, doctor
from tests.support.mssante_operator import OperatorProcess
from tests.support.mssante_site import mssante_fixtures
from tests.support.worklist import worklist

BAL = "labo-resultats@labo-notice.mssante.fr"
INS = "279035121518989"
REJECT = "http://terminology.hl7.org/CodeSystem/v2-0490"
REASON = {"coding": [{"system": REJECT, "code": "RC", "display": "Échantillon coagulé"}], "text": "Échantillon coagulé"}
ACCESSION = "https://opensgl.org/fhir/sid/accession"
REQUISITION = "https://opensgl.org/sid/demande"
UNKNOWN = "dr.parti@cabinet-ferme.mssante.fr"
"""An address whose box does not exist: the operator answers with a bounce (DSN)."""


operator, dl = mssante_fixtures("mss-notice", BAL, unknown=(UNKNOWN,), SGL_MSS_LABEL="Laboratoire des Tilleuls",
                                SGL_MSS_RECEIPTS_POLL="1")


@pytest.fixture(scope="module")
async def patient(dl: DeliveryLab) -> str:
    """A qualified identity whose used name differs from the birth name (both must be shown)."""
    body = samples.patient(True)
    body.pop("id")
    body["name"] = [{"use": "official", "family": "LEBRETON", "given": ["ANNE", "SOLENNE"]},
                    {"use": "usual", "family": "KERGOAT", "given": ["ANNE"]}]
    body["birthDate"] = "1984-07-12"
    return f"Patient/{(await dl.lab.store.create(body)).id}"


async def _request(dl: DeliveryLab, patient: str, requester: str) -> dict[str, Any]:
    answer = await dl.lab.client.post("ServiceRequest", json={
        "resourceType": "ServiceRequest", "status": "active", "intent": "order", "subject": {"reference": patient},
        "code": {"text": "glycémie"}, "requester": {"reference": requester},
        "requisition": {"system": REQUISITION, "value": uuid.uuid4().hex[:12]}})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _tube(patient: str, request: str, accession: str, status: str) -> dict[str, Any]:
    tube: dict[str, Any] = {
        "resourceType": "Specimen", "status": status, "subject": {"reference": patient},
        "accessionIdentifier": {"system": ACCESSION, "value": accession},
        "type": {"text": "sang veineux (tube gris)"}, "request": [{"reference": request}]}
    if status == "unsatisfactory":
        tube["condition"] = [REASON]
    return tube


async def _notices(client: httpx.AsyncClient, specimen: str) -> list[dict[str, Any]]:
    answer = await client.get("Communication", params={"about": specimen})
    assert answer.status_code == 200, answer.text
    return [e["resource"] for e in answer.json().get("entry", ()) if e["search"]["mode"] == "match"]


async def _posted_refused(dl: DeliveryLab, patient: str, requester: str, accession: str
                          ) -> tuple[dict[str, Any], dict[str, Any]]:
    """A tube POSTed already refused for a new request of ``requester``: the request and the one notice."""
    request = await _request(dl, patient, requester)
    made = await dl.lab.client.post("Specimen", json=_tube(patient, f"ServiceRequest/{request['id']}", accession,
                                                             "unsatisfactory"))
    assert made.status_code == 201, made.text
    [notice] = await _notices(dl.lab.client, f"Specimen/{made.json()['id']}")
    return request, notice


async def _deliveries(client: httpx.AsyncClient, notice: str) -> list[dict[str, Any]]:
    answer = await client.get(f"Communication/{notice}/$deliveries")
    assert answer.status_code == 200, answer.text
    return [json.loads(p["valueString"]) for p in answer.json().get("parameter", ())]


async def _until(client: httpx.AsyncClient, notice: str,
                 done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    end = time.monotonic() + DEADLINE_S
    while True:
        found = await _deliveries(client, notice)
        if done(found):
            return found
        assert time.monotonic() < end, f"deliveries of Communication/{notice}: {found}"
        await asyncio.sleep(0.2)


def _delivered(found: list[dict[str, Any]]) -> bool:
    return len(found) == 1 and found[0]["state"] == "delivered"


async def _mail_to(operator: OperatorProcess, address: str) -> dict[str, Any]:
    [mail] = await asyncio.to_thread(operator.messages, address, raw=True)
    return mail


async def test_a_tube_refused_at_reception_is_mailed_once_to_the_requester(
        dl: DeliveryLab, operator: OperatorProcess, patient: str) -> None:
    address = "dr.prescripteur@cabinet-notice.mssante.fr"
    requester = await doctor(dl.lab, 70, address)
    request = await _request(dl, patient, requester)
    desk = await dl.act_as("secretaire")
    made = await desk.post("Specimen", json=_tube(patient, f"ServiceRequest/{request['id']}", "2612050001",
                                                   "available"))
    assert made.status_code == 201, made.text
    tube = made.json()
    assert await _notices(desk, f"Specimen/{tube['id']}") == []  # a conforming tube notifies nobody
    refused = await desk.put(f"Specimen/{tube['id']}", json={**tube, "status": "unsatisfactory", "condition": [REASON]},
                             headers={"If-Match": f'W/"{tube["meta"]["versionId"]}"'})
    assert refused.status_code == 200, refused.text

    [notice] = await _notices(desk, f"Specimen/{tube['id']}")
    [sent] = await _until(desk, notice["id"], _delivered)
    assert sent["action"] == "notice" and sent["recipient"] == requester and sent["route"] == "mss-pro"
    assert sent["id"] == f"mssante:{requester}:Communication/{notice['id']}:v1:notice"
    mail = await _mail_to(operator, address)
    assert mail["messageId"] == sent["remote_id"]  # the Message-ID comes from the idempotency key
    assert mail["attachments"] == []  # a message, no CR-Bio document
    assert "2612050001" in mail["subject"]
    text = body_text(base64.b64decode(mail["raw"]))
    for words in ("nom de naissance LEBRETON", "premier prénom de naissance ANNE", "né(e) le 12/07/1984",
                  "sexe féminin", "nom utilisé KERGOAT", "2612050001", "sang veineux (tube gris)",
                  "Échantillon coagulé", "Laboratoire des Tilleuls", "nouveau prélèvement"):
        assert words in text, (words, text)
    assert INS not in text and INS not in json.dumps(mail["headers"])

    again = (await desk.get(f"Specimen/{tube['id']}")).json()
    again["note"] = [{"text": "prescripteur prévenu"}]
    edited = await desk.put(f"Specimen/{tube['id']}", json=again,
                            headers={"If-Match": f'W/"{again["meta"]["versionId"]}"'})
    assert edited.status_code == 200, edited.text
    assert len(await _notices(desk, f"Specimen/{tube['id']}")) == 1  # once only
    assert len(await asyncio.to_thread(operator.messages, address)) == 1
    assert INS not in dl.server.log.read_text(errors="replace")  # no INS value in the server's log


async def test_a_tube_created_already_refused_notifies_once(
        dl: DeliveryLab, operator: OperatorProcess, patient: str) -> None:
    address = "dr.creation@cabinet-notice.mssante.fr"
    requester = await doctor(dl.lab, 71, address)
    request, notice = await _posted_refused(dl, patient, requester, "2612050002")
    assert notice["recipient"] == [{"reference": requester}]
    assert notice["basedOn"] == [{"reference": f"ServiceRequest/{request['id']}"}]
    await _until(dl.lab.client, notice["id"], _delivered)
    assert "2612050002" in (await _mail_to(operator, address))["subject"]


async def test_a_transaction_bundle_with_the_order_and_a_refused_tube_notifies_its_requester(
        dl: DeliveryLab, operator: OperatorProcess, patient: str) -> None:
    address = "dr.bundle@cabinet-notice.mssante.fr"
    requester = await doctor(dl.lab, 72, address)
    order, tube = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": tube, "resource": _tube(patient, order, "2612050003", "unsatisfactory"),
         "request": {"method": "POST", "url": "Specimen"}},  # the tube first: its request is not stored yet
        {"fullUrl": order, "resource": {
            "resourceType": "ServiceRequest", "status": "active", "intent": "order", "subject": {"reference": patient},
            "code": {"text": "glycémie"}, "requester": {"reference": requester}, "specimen": [{"reference": tube}]},
         "request": {"method": "POST", "url": "ServiceRequest"}}]}
    answer = await dl.lab.client.post("", json=bundle)
    assert answer.status_code == 200, answer.text
    found = re.search(r"Specimen/([^/]+)", answer.json()["entry"][0]["response"]["location"])
    assert found is not None
    [notice] = await _notices(dl.lab.client, f"Specimen/{found[1]}")
    assert notice["recipient"] == [{"reference": requester}]
    await _until(dl.lab.client, notice["id"], _delivered)
    assert "2612050003" in (await _mail_to(operator, address))["subject"]


async def test_a_requester_without_mssante_address_is_shown_not_sent_then_sent_once_it_is_known(
        dl: DeliveryLab, operator: OperatorProcess, patient: str) -> None:
    requester = await doctor(dl.lab, 73, "secretariat@cabinet-sans-mss.fr")  # an ordinary mail: not MSSanté
    _, notice = await _posted_refused(dl, patient, requester, "2612050004")
    [unsent] = await _deliveries(dl.lab.client, notice["id"])
    assert unsent["state"] == "failed" and unsent["unsent"] == "no-address"
    assert "aucune adresse MSSanté" in unsent["last_answer"]
    [task] = await worklist(dl.lab.client, "delivery-failed", f"Communication/{notice['id']}")
    assert task["input"][0]["valueString"] == unsent["id"]
    assert_notice_task(task)

    desk = await dl.act_as("technicien")  # may read the state, may not send again
    assert (await desk.get(f"Communication/{notice['id']}/$deliveries")).status_code == 200
    retry = {"resourceType": "Parameters", "parameter": [{"name": "delivery", "valueString": unsent["id"]}]}
    refused = await desk.post(f"Communication/{notice['id']}/$delivery-retry", json=retry)
    assert refused.status_code == 403, refused.text
    admin = await dl.act_as("administrateur")
    assert (await admin.get(f"Communication/{notice['id']}/$deliveries")).status_code == 403

    role = (await dl.lab.client.get(requester)).json()
    role["telecom"].append({"system": "email", "value": "dr.trouve@cabinet-notice.mssante.fr"})
    assert (await dl.lab.client.put(requester, json=role)).status_code == 200  # the address is found, then
    secretary = await dl.act_as("secretaire")
    again = await secretary.post(f"Communication/{notice['id']}/$delivery-retry", json=retry)
    assert again.status_code == 200, again.text
    await _until(dl.lab.client, notice["id"], _delivered)
    assert "2612050004" in (await _mail_to(operator, "dr.trouve@cabinet-notice.mssante.fr"))["subject"]


async def test_a_bounced_notice_fails_with_the_operators_answer_and_a_task(
        dl: DeliveryLab, operator: OperatorProcess, patient: str) -> None:
    requester = await doctor(dl.lab, 74, UNKNOWN)
    _, notice = await _posted_refused(dl, patient, requester, "2612050005")
    # the operator takes the mail, then its bounce (DSN) comes back over IMAP: the notice is failed, with why
    [failed] = await _until(dl.lab.client, notice["id"], lambda f: len(f) == 1 and f[0]["state"] == "failed")
    assert "unsent" not in failed and failed["receipt"]["status"] == "failed"
    assert "non remis" in failed["last_answer"] and "avis de tube refusé" in failed["last_answer"]
    [task] = await worklist(dl.lab.client, "delivery-failed", f"Communication/{notice['id']}")
    assert task["input"][0]["valueString"] == failed["id"] and UNKNOWN in task["description"]
    assert_notice_task(task)


def assert_notice_task(task: dict[str, Any]) -> None:
    """The failure Task of a notice says so in the words the lab reads, not "Envoi du CR-Bio en échec"."""
    assert task["code"]["text"].startswith("Avis de tube refusé non remis au prescripteur")
    assert "CR-Bio" not in task["code"]["text"] + task["code"]["coding"][0]["display"] + task["description"]
    assert "avis de tube refusé" in task["description"].lower()
