"""The ``mssante`` channel against the delivery contract: recipients from the dossier, sends to a real operator."""

from __future__ import annotations

import email
from collections.abc import AsyncIterator
from email.policy import default
from typing import Any

import pytest

from facades.mssante.simulator import OperatorHandle, start_operator
from resources.ins import IDENTITY_RELIABILITY_URL, IDENTITY_STATUS_SYSTEM, ins_identifier_for
from server.delivery.channel import (
    Action,
    DeliveryItem,
    DeliverySettings,
    DocumentEvent,
    DocumentSet,
    Outcome,
    Recipient,
    StoredDocument,
)
from server.delivery.mssante_channel import MssanteChannel, message_id, pdf_name
from tests.support.mssante import KIT_N3, SENDER, OperatorPki, client_for, operator_pki
from tests.support.sgl_server import free_ports

INS = "279035121518989"
COPIES_TO = "https://opensgl.org/fhir/StructureDefinition/result-copies-to"


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory) -> OperatorPki:
    return operator_pki(tmp_path_factory.mktemp("mss-channel-pki"))


@pytest.fixture
async def operator(ops: OperatorPki) -> AsyncIterator[OperatorHandle]:
    handle = await start_operator("127.0.0.1", ops.pki.server.cert, ops.pki.server.key, ops.pki.ca.cert,
                                  bal=SENDER.address)
    try:
        yield handle
    finally:
        await handle.stop()


def _patient(status: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p1", "identifier": [ins_identifier_for(INS, "1.2.250.1.213.1.4.10")],
            "name": [{"use": "official", "family": "PAT-TROIS", "given": ["DOMINIQUE"]}],
            "extension": [{"url": IDENTITY_RELIABILITY_URL, "extension": [
                {"url": "identityStatus", "valueCoding": {"system": IDENTITY_STATUS_SYSTEM, "code": status}}]}]}


STORED: dict[tuple[str, str], dict[str, Any]] = {
    ("ServiceRequest", "sr1"): {"resourceType": "ServiceRequest", "id": "sr1",
                                "requester": {"reference": "PractitionerRole/r1"},
                                "extension": [{"url": COPIES_TO, "valueReference": {"reference": ref}} for ref in
                                              ("PractitionerRole/r2", "Organization/o1", "Practitioner/d3")]},
    ("PractitionerRole", "r1"): {"resourceType": "PractitionerRole", "id": "r1",
                                 "practitioner": {"reference": "Practitioner/d1"},
                                 "telecom": [{"system": "email", "value": "prescripteur@cabinet.mssante.fr"}]},
    ("Practitioner", "d1"): {"resourceType": "Practitioner", "id": "d1", "name": [{"family": "PRESCRIPTEUR"}]},
    ("PractitionerRole", "r2"): {"resourceType": "PractitionerRole", "id": "r2",
                                 "practitioner": {"reference": "Practitioner/d2"},
                                 "organization": {"reference": "Organization/o1"}},
    ("Practitioner", "d2"): {"resourceType": "Practitioner", "id": "d2", "name": [{"family": "SANSADRESSE"}]},
    ("Organization", "o1"): {"resourceType": "Organization", "id": "o1", "name": "Clinique du Parc",
                             "telecom": [{"system": "email", "value": "resultats@clinique-parc.mssante.fr"}]},
    ("Practitioner", "d3"): {"resourceType": "Practitioner", "id": "d3", "name": [{"family": "LIBERAL"}],
                             "telecom": [{"system": "email", "value": "liberal@medecin.mssante.fr"}]},
}


async def _read(rtype: str, rid: str) -> dict[str, Any] | None:
    return STORED.get((rtype, rid))


def _channel(ops: OperatorPki, operator: OperatorHandle, refused: set[str] | None = None,
             **config: Any) -> MssanteChannel:
    async def refusals(service_request: str) -> set[str]:
        assert service_request == "ServiceRequest/sr1"
        return set(refused or ())

    client = client_for(ops, operator.smtp_port, operator.imap_port, **config)
    return MssanteChannel(client.config, SENDER, refusals, "accueil-patients@labo-opensgl.mssante.fr")


def _event(action: Action, status: str = "final", identity: str = "QUAL",
           received: tuple[Recipient, ...] | None = None) -> DocumentEvent:
    report = {"resourceType": "DiagnosticReport", "id": "rep1", "status": status,
              "basedOn": [{"reference": "ServiceRequest/sr1"}]}

    async def delivered_to(channel: str) -> list[Recipient]:
        assert channel == "mssante"
        return list(received or ())

    return DocumentEvent(action, report, _patient(identity), DeliverySettings(), _read,
                         None if received is None else delivered_to)


def _documents(version: int = 1, *, with_docs: bool = True) -> DocumentSet:
    def doc(fmt: str, content: bytes) -> StoredDocument:
        ident = f"rep1-{fmt}-v{version}"
        return StoredDocument(fmt, content, "text/xml", ident, ident, None, None, version)

    report = {"resourceType": "DiagnosticReport", "id": "rep1", "effectiveDateTime": "2026-11-20T08:00:00+01:00",
              "presentedForm": [{"url": f"Binary/rep1-pdf-v{version}", "title": f"CR-BIO_PAT-TROIS_V{version}.pdf"}]}
    documents = {"n3": doc("n3", KIT_N3.read_bytes()), "pdf": doc("pdf", b"%PDF-1.4\n")} if with_docs else {}
    return DocumentSet(report, _patient("QUAL"), [], documents)


def _item(recipient: str, action: Action = Action.PUBLISH, version: int = 1, **extra: str) -> DeliveryItem:
    key = f"mssante:{recipient}:rep1:v{version}:{action.value}"
    return DeliveryItem(key, key, "mssante", recipient, action, "rep1", version, "Patient/p1", DeliverySettings(),
                        extra=extra or {"audience": "pro", "address": recipient})


@pytest.mark.req("SGL.MSS.15")
@pytest.mark.req("SGL.MSS.17")
async def test_recipients_are_the_prescriber_and_correspondents_and_the_patient_SGL_MSS_15_SGL_MSS_17(
        ops: OperatorPki, operator: OperatorHandle) -> None:
    recipients = await _channel(ops, operator).recipients(_event(Action.PUBLISH))
    names = [r.name for r in recipients]
    assert names == ["prescripteur@cabinet.mssante.fr", "resultats@clinique-parc.mssante.fr",
                     "liberal@medecin.mssante.fr", "patient:Patient/p1"]
    assert INS not in " ".join(names)  # the patient's delivery is not named by its INS address
    assert recipients[-1].extra == {"audience": "patient", "name": "patient", "address": f"{INS}@patient.mssante.fr"}


@pytest.mark.req("SGL.MSS.16")
@pytest.mark.req("SGL.MSS.19")
async def test_refusals_and_identity_remove_recipients_SGL_MSS_16_SGL_MSS_19(ops: OperatorPki,
                                                                             operator: OperatorHandle) -> None:
    assert await _channel(ops, operator, {"mssante-pro", "mssante-patient"}).recipients(_event(Action.PUBLISH)) == []
    provisional = await _channel(ops, operator).recipients(_event(Action.PUBLISH, identity="PROV"))
    assert all(not r.name.startswith("patient:") for r in provisional) and len(provisional) == 3
    assert await _channel(ops, operator).recipients(_event(Action.PUBLISH, status="preliminary")) == []
    assert await _channel(ops, operator).recipients(_event(Action.SETTINGS)) == []
    hospital = _channel(ops, operator)
    hospital.automatic = False  # SGL_MSS_AUTOMATIC=false: nothing goes out by itself (SGL.MSS.18)
    assert await hospital.recipients(_event(Action.PUBLISH)) == []


async def test_send_delivers_with_a_message_id_stable_across_retries(ops: OperatorPki,
                                                                      operator: OperatorHandle) -> None:
    channel, item = _channel(ops, operator), _item("liberal@medecin.mssante.fr")
    answer = await channel.send(item, _documents())
    assert answer.outcome == Outcome.DELIVERED, answer.text
    assert answer.remote_id == message_id(item.idempotency_key, SENDER.address)
    assert answer.text.startswith("submitted over TLSv1.2")
    [received] = operator.boxes.messages(to="liberal@medecin.mssante.fr")
    assert received["messageId"] == answer.remote_id
    assert received["attachments"] == ["IHE_XDM.ZIP", "CR-BIO_PAT-TROIS_V1.pdf"]
    assert pdf_name(_documents(2)) == "CR-BIO_PAT-TROIS_V2.pdf"
    mail = email.message_from_bytes(operator.boxes.delivered[0].raw, policy=default)
    # the lab's name comes from the documents themselves (the N3's author organisation)
    assert "Laboratoire des charmes" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


@pytest.mark.req("SGL.MSS.24")
@pytest.mark.req("SGL.MSS.25")
async def test_replacement_and_deletion_mails_SGL_MSS_24_SGL_MSS_25(ops: OperatorPki, operator: OperatorHandle) -> None:
    channel = _channel(ops, operator)
    replaced = await channel.send(_item("liberal@medecin.mssante.fr", Action.REPLACE, 2), _documents(2))
    deleted = await channel.send(_item("liberal@medecin.mssante.fr", Action.DELETE, 2), _documents(2, with_docs=False))
    assert replaced.outcome == deleted.outcome == Outcome.DELIVERED
    first, second = (email.message_from_bytes(d.raw, policy=default) for d in operator.boxes.delivered)
    assert "ANNULE ET REMPLACE le compte rendu (version 1)" in first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert [p.get_filename() for p in first.walk() if p.get_filename()] == ["IHE_XDM.ZIP", "CR-BIO_PAT-TROIS_V2.pdf"]
    assert "supprimé" in second.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert [p.get_filename() for p in second.walk() if p.get_filename()] == []


@pytest.mark.req("SGL.MSS.20")
async def test_patient_mail_goes_to_the_ins_address_with_the_patients_reply_address_SGL_MSS_20(
        ops: OperatorPki, operator: OperatorHandle) -> None:
    address = f"{INS}@patient.mssante.fr"
    item = _item("patient:Patient/p1", audience="patient", address=address)
    assert (await _channel(ops, operator).send(item, _documents())).outcome == Outcome.DELIVERED
    [received] = operator.boxes.messages(to=address)
    assert received["headers"]["Reply-To"] == "accueil-patients@labo-opensgl.mssante.fr"


@pytest.mark.req("SGL.MSS.06")
async def test_tls_refusal_is_a_retry_with_the_reason_and_5xx_a_failure_SGL_MSS_06(
        ops: OperatorPki, operator: OperatorHandle) -> None:
    item = _item("liberal@medecin.mssante.fr")
    no_crl = await _channel(ops, operator, crls=()).send(item, _documents())
    assert no_crl.outcome == Outcome.RETRY and "SGL.MSS.06" in no_crl.text
    (closed,) = free_ports(1)  # the OCSP responder down: the delivery stays pending with the reason
    down = await _channel(ops, operator, crls=(), ocsp=f"http://127.0.0.1:{closed}/ocsp").send(item, _documents())
    assert down.outcome == Outcome.RETRY and "OCSP responder" in down.text and "cannot be reached" in down.text
    operator.boxes.busy = 1  # RCPT 450 4.2.1: the recipient's platform says "later", a retry can help
    later = await _channel(ops, operator).send(item, _documents())
    assert later.outcome == Outcome.RETRY and "450" in later.text
    operator.boxes.refuse_all = True
    refused = await _channel(ops, operator).send(item, _documents())
    assert refused.outcome == Outcome.FAILED and "550" in refused.text
    missing = await _channel(ops, operator).send(item, _documents(with_docs=False))
    assert missing.outcome == Outcome.FAILED and "no stored N3" in missing.text
    assert operator.boxes.messages() == []


@pytest.mark.req("SGL.MSS.25")
async def test_deletion_goes_to_who_received_it_and_a_replacement_too_SGL_MSS_25(
        ops: OperatorPki, operator: OperatorHandle) -> None:
    gone = Recipient("retire@cabinet.mssante.fr", {"audience": "pro", "name": "RETIRE",
                                                   "address": "retire@cabinet.mssante.fr"})
    patient = Recipient("patient:Patient/p1", {"audience": "patient", "name": "patient",
                                               "address": f"{INS}@patient.mssante.fr"})
    channel = _channel(ops, operator)
    # the dossier names three professionals today; only those who received the report are warned
    assert await channel.recipients(_event(Action.DELETE, received=(gone, patient))) == [gone, patient]
    assert await channel.recipients(_event(Action.DELETE)) == []  # no history given: nobody to warn
    replaced = [r.name for r in await channel.recipients(_event(Action.REPLACE, received=(gone, patient)))]
    assert replaced == ["prescripteur@cabinet.mssante.fr", "resultats@clinique-parc.mssante.fr",
                        "liberal@medecin.mssante.fr", "patient:Patient/p1", "retire@cabinet.mssante.fr"]
    hospital = _channel(ops, operator, {"mssante-patient"})
    hospital.automatic = False  # by hand in a hospital: the replacement follows the earlier version (MSS.18, .24)
    assert await hospital.recipients(_event(Action.REPLACE, received=(gone, patient))) == [gone]
