"""End to end: a validated report reaches the MSSanté operator once per recipient, through the real outbox.

A dedicated ``sgl serve`` configured with ``SGL_MSS_*`` and a real ``sgl mssante-simulator`` process; the
dossier is made the way the lab makes it (prescriber and correspondents on the ServiceRequest, a qualified
patient), the report biologically validated; the mails are read back from the simulator's
``/_sim/messages`` and the deliveries through ``$deliveries`` as a client would.
"""

from __future__ import annotations

import asyncio
import base64
import io
import zipfile
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email.policy import default
from typing import Any

import pytest

from facades.cda import validate_cda
from facades.mssante.dev_crl import write_crl
from tests.support import crbio_samples as samples
from tests.support.delivery_lab import DeliveryLab, delivery_lab, wait_until
from tests.support.documents_wait import wait_for_documents
from tests.support.mssante_operator import OperatorProcess, start_operator_process
from tests.support.validation_lab import Lab, parameters
from tests.support.worklist import worklist

BAL = "labo-resultats@labo-opensgl.mssante.fr"
CONTACT = "secretariat@labo-opensgl.mssante.fr"
INS = "279035121518989"
PATIENT_ADDRESS = f"{INS}@patient.mssante.fr"
COPIES_TO = "https://opensgl.org/fhir/StructureDefinition/result-copies-to"


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OperatorProcess]:
    handle = start_operator_process(tmp_path_factory.mktemp("mss-op") / "pki", BAL,
                                    unknown=("inconnu@cabinet.mssante.fr",))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
async def dl(tmp_path_factory: pytest.TempPathFactory, operator: OperatorProcess) -> AsyncIterator[DeliveryLab]:
    env = operator.env(SGL_MSS_CONTACT=CONTACT, SGL_MSS_RECEIPTS_POLL="0.5", SGL_DELIVERY_ATTEMPTS="60")
    async with delivery_lab(tmp_path_factory.mktemp("mss-delivery") / "var", env) as lab:
        yield lab


async def _doctor(lab: Lab, n: int, address: str | None) -> str:
    telecom = [{"system": "phone", "value": f"010203040{n % 10}"}]
    if address:
        telecom.append({"system": "email", "value": address})
    person = await lab.store.create({"resourceType": "Practitioner",
                                     "name": [{"family": f"CORRESPONDANT{n}", "given": ["Claire"]}]})
    role = await lab.store.create({"resourceType": "PractitionerRole", "practitioner": {
        "reference": f"Practitioner/{person.id}"}, "telecom": telecom})
    return f"PractitionerRole/{role.id}"


async def _validated(lab: Lab, *, qualified: bool, correspondents: list[str]) -> str:
    """Order with a prescriber and correspondents, one result, technically then biologically validated."""
    body = samples.patient(qualified)
    body.pop("id")
    pid = (await lab.store.create(body)).id
    request = await lab.client.post("ServiceRequest", json={
        "resourceType": "ServiceRequest", "status": "active", "intent": "order",
        "subject": {"reference": f"Patient/{pid}"}, "code": {"text": "bilan"},
        "requester": {"reference": correspondents[0]},
        "extension": [{"url": COPIES_TO, "valueReference": {"reference": r}} for r in correspondents[1:]]})
    assert request.status_code == 201, request.text
    rid = await lab.result(pid, request.json()["id"], "GLU", 1.05)
    assert (await lab.validate(rid)).status_code == 200
    report = await lab.report_of(rid)
    answer = await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    await wait_for_documents(lab.client, report["id"])
    return str(report["id"])


def _attachment(raw: bytes, name: str) -> bytes:
    message = message_from_bytes(raw, policy=default)
    part = next(p for p in message.walk() if p.get_filename() == name)
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


def _states(found: list[dict[str, Any]], *states: str) -> bool:
    return bool(found) and all(d["state"] in states for d in found)


@pytest.mark.req("SGL.MSS.17")
@pytest.mark.req("SGL.MSS.20")
@pytest.mark.req("SGL.MSS.22")
async def test_validated_report_is_mailed_once_to_each_recipient_with_receipts_SGL_MSS_17_SGL_MSS_20_SGL_MSS_22(
        dl: DeliveryLab, operator: OperatorProcess) -> None:
    pros = [f"correspondant{n}@cabinet{n}.mssante.fr" for n in range(3)] + ["inconnu@cabinet.mssante.fr"]
    refs = [await _doctor(dl.lab, n, a) for n, a in enumerate(pros)] + [await _doctor(dl.lab, 9, None)]
    report_id = await _validated(dl.lab, qualified=True, correspondents=refs)

    found = await wait_until(dl.lab.client, report_id, lambda f: len([d for d in f if d["channel"] == "mssante"])
                             == 5 and _states([d for d in f if d["channel"] == "mssante"], "delivered", "failed"))
    mss = [d for d in found if d["channel"] == "mssante"]
    assert sorted(d["recipient"] for d in mss) == sorted([*pros, f"patient:{mss[0]['patient']}"])
    assert all(INS not in d["id"] for d in mss)  # the INS address is not the delivery's name
    for address in [*pros[:3], PATIENT_ADDRESS]:
        [mail] = await asyncio.to_thread(operator.messages, address, raw=True)  # exactly once each
        assert mail["attachments"][0] == "IHE_XDM.ZIP" and mail["attachments"][1].startswith("CR-BIO_")
        headers = mail["headers"]
        assert (headers["X-MSS-CODECDA"], headers["X-MSS-INS"]) == ("11502-2", "O")
        assert headers["Reply-To"] == CONTACT and headers["Disposition-Notification-To"] == BAL
        assert mail["clientCertificate"] == "BAL-APPLICATIVE"
    raw = base64.b64decode(mail["raw"])
    archive = zipfile.ZipFile(io.BytesIO(_attachment(raw, "IHE_XDM.ZIP")))
    assert sorted(archive.namelist()) == ["IHE_XDM/SUBSET01/DOC0001.XML", "IHE_XDM/SUBSET01/METADATA.XML",
                                          "INDEX.HTM", "README.TXT"]
    n3 = archive.read("IHE_XDM/SUBSET01/DOC0001.XML")
    assert (await asyncio.to_thread(validate_cda, n3, level="N3")).ok  # the N3 passes the ANS conformance check
    assert _attachment(raw, mail["attachments"][1]).startswith(b"%PDF")

    def receipts_in(f: list[dict[str, Any]]) -> bool:
        return all((d.get("receipt") or {}).get("status") in ("processed", "failed")
                   for d in f if d["channel"] == "mssante")

    found = await wait_until(dl.lab.client, report_id, receipts_in)
    by_recipient = {d["recipient"]: d for d in found if d["channel"] == "mssante"}
    assert by_recipient[pros[0]]["receipt"]["status"] == "processed"
    bounced = by_recipient["inconnu@cabinet.mssante.fr"]
    assert bounced["receipt"]["status"] == "failed" and bounced["receipt"]["code"] == "5.1.1"
    assert bounced["state"] == "failed" and bounced.get("task")  # the bounce became a failure Task
    tasks = await worklist(dl.lab.client, "delivery-failed", f"DiagnosticReport/{report_id}")
    assert any("inconnu@cabinet.mssante.fr" in t.get("description", "") for t in tasks)


@pytest.mark.req("SGL.MSS.06")
async def test_revoked_operator_certificate_leaves_the_delivery_pending_with_the_reason_SGL_MSS_06(
        dl: DeliveryLab, operator: OperatorProcess) -> None:
    crl = operator.cert_dir / "crl.pem"
    good = crl.read_bytes()
    write_crl(operator.cert_dir / "ca.pem", operator.cert_dir / "ca-key.pem", crl,
              revoked=[operator.cert_dir / "server.pem"])
    address = "revocation@cabinet.mssante.fr"
    try:
        report_id = await _validated(dl.lab, qualified=False, correspondents=[await _doctor(dl.lab, 7, address)])
        found = await wait_until(dl.lab.client, report_id, lambda f: any(
            d["state"] == "pending" and "SGL.MSS.06" in d.get("last_answer", "") for d in f))
        [pending] = [d for d in found if d["channel"] == "mssante"]
        assert "revoked" in pending["last_answer"]
        assert await asyncio.to_thread(operator.messages, address) == []
    finally:
        crl.write_bytes(good)
    await wait_until(dl.lab.client, report_id, lambda f: _states([d for d in f if d["channel"] == "mssante"],
                                                                 "delivered"))
    assert len(await asyncio.to_thread(operator.messages, address)) == 1  # sent once, after the retries
