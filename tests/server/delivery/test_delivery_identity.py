"""Identity changes reach the EHRs that hold data of the patient (SGL.INS.34, SGL.INS.36, traced as SGL.INS.50),
end to end over real sockets, every EHR link over mutual MLLP/TLS (``SGL_DPI_TLS_CA`` + the lab's certificate,
made by the test): a qualification, a strict-trait correction that downgrades, a merge from the hospital's
identity repository; a partner without ``--identity-updates``, or that never received the patient, hears nothing.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from facades.hl7v2.message import Hl7Message
from resources.ins import identity_status
from tests.support import crbio_samples as samples
from tests.support.adt_feed import IPP_SYSTEM, exchange, new_ipp, patients
from tests.support.delivery_lab import DeliveryLab, deliveries, delivery_lab, to, wait_until
from tests.support.dossiers import validated_report
from tests.support.identity_samples import parameters
from tests.support.mllp_receiver import MllpReceiver
from tests.support.pam_samples import adt, pid
from tests.support.pki import TestPki, create_test_pki, server_context
from tests.support.worklist import worklist

INS = "279035121518989"
PI = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PI"}]}
_names = itertools.count(1)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return create_test_pki(tmp_path_factory.mktemp("dpi-pki"))


@pytest.fixture(scope="module")
async def dl(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> AsyncIterator[DeliveryLab]:
    tls = {"SGL_TEST_MODE": "true", "SGL_DPI_TLS_CA": str(pki.ca.cert), "SGL_MLLP_TLS_CERT": str(pki.client.cert),
           "SGL_MLLP_TLS_KEY": str(pki.client.key)}
    async with delivery_lab(tmp_path_factory.mktemp("identity-delivery") / "var", tls) as lab:
        yield lab


class Ehrs:
    """Three EHRs over MLLP/TLS: ``told`` takes identity updates, ``plain`` does not; ``late`` takes them but is
    registered only after the reports were sent (it never received the patient)."""

    def __init__(self, dl: DeliveryLab, pki: TestPki) -> None:
        self.dl, self.pki = dl, pki
        self.receivers: dict[str, MllpReceiver] = {}

    async def add(self, role: str, *options: str) -> MllpReceiver:
        receiver = await MllpReceiver(ssl_context=server_context(self.pki)).start()
        name = f"EHR-{role.upper()}-{next(_names)}"
        await self.dl.add_dpi(name, receiver.address, *options)
        receiver.name = name  # type: ignore[attr-defined]
        self.receivers[name] = receiver
        return receiver

    async def close(self) -> None:
        for name, receiver in self.receivers.items():
            await self.dl.sgl("partners", "remove", name)
            await receiver.stop()


@pytest.fixture
async def ehrs(dl: DeliveryLab, pki: TestPki) -> AsyncIterator[Ehrs]:
    held = Ehrs(dl, pki)
    try:
        yield held
    finally:
        await held.close()


def _recup_patient(ipp: str) -> dict[str, Any]:
    """A RECUP identity (INS from INSi, no high-trust document seen yet) with the hospital IPP, stored as is."""
    body = copy.deepcopy(samples.patient(True))
    body.pop("id")
    body["extension"][0] = {"url": samples.QUALIFIED["url"],
                            "extension": [{"url": "identityStatus", "valueCoding": {"code": "RECUP"}}]}
    body["identifier"] = [body["identifier"][0], {"use": "usual", "type": PI, "system": IPP_SYSTEM, "value": ipp}]
    return body


def _of(receiver: MllpReceiver, kind: str) -> list[Hl7Message]:
    return [m for m in receiver.received if f"{m.message_type}^{m.trigger_event}" == kind]


def _identity(found: list[dict[str, Any]], recipient: str) -> list[dict[str, Any]]:
    return [d for d in to(recipient, found) if d["action"] == "identity"]


def _delivered(recipient: str, count: int) -> Any:
    return lambda found: len(_identity(found, recipient)) >= count and all(
        d["state"] == "delivered" for d in _identity(found, recipient))


async def _oru_delivered(dl: DeliveryLab, report_id: str, *names: str) -> None:
    await wait_until(dl.lab.client, report_id, lambda found: all(
        [d["state"] for d in to(n, found)] == ["delivered"] for n in names))


@pytest.mark.req("SGL.INS.34")
@pytest.mark.req("SGL.INS.36")
@pytest.mark.req("SGL.INS.50")
@pytest.mark.req("SGL.INS.56")
async def test_qualification_then_a_trait_correction_reach_the_ehr_that_holds_the_patient_SGL_INS_34_SGL_INS_36(
        dl: DeliveryLab, ehrs: Ehrs) -> None:
    told, plain = await ehrs.add("told", "--identity-updates"), await ehrs.add("plain")
    ipp = new_ipp()
    pid_ = (await dl.lab.store.create(_recup_patient(ipp))).id
    _, report, _ = await validated_report(dl.lab, {"GLU": 1.01}, pid=pid_)
    await _oru_delivered(dl, report["id"], told.name, plain.name)  # type: ignore[attr-defined]
    [oru] = told.received
    assert INS not in str(oru.segment("PID").field(3))  # type: ignore[union-attr]  # RECUP: traits only
    late = await ehrs.add("late", "--identity-updates")

    # qualification: a high-trust document seen at the desk (RECUP -> QUAL)
    desk = await dl.act_as("secretaire")
    answer = await desk.post(f"Patient/{pid_}/$validate-identity", json=parameters(justificatif="CN"))
    assert answer.status_code == 200, answer.text
    found = await wait_until(dl.lab.client, pid_, _delivered(told.name, 1), kind="Patient")  # type: ignore[attr-defined]
    [a31] = _of(told, "ADT^A31")
    pid3 = str(a31.segment("PID").field(3))  # type: ignore[union-attr]
    assert pid3 == f"{ipp}^^^&000897406&N^PI~{INS}^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS"
    assert a31.segment("PID").get(32) == "VALI" and a31.msh.get("5") == told.name  # type: ignore[union-attr,attr-defined]
    [delivery] = _identity(found, told.name)  # type: ignore[attr-defined]
    assert delivery["remote_id"] == a31.control_id and delivery["history"][-1]["text"] == "AA"
    assert delivery["recipient_extra"]["event"] == "A31" and "QUAL" in delivery["recipient_extra"]["why"]
    assert delivery["patient"] == f"Patient/{pid_}" and delivery["report_id"] == ""

    # the referent corrects the birth date: QUAL -> VALI, INS retired, and the EHR is told without the INS
    referent = await dl.act_as("biologiste-responsable")
    patient = (await referent.get(f"Patient/{pid_}")).json()
    corrected = await referent.put(f"Patient/{pid_}", json={**patient, "birthDate": "1979-03-29"})
    assert corrected.status_code == 200 and identity_status(corrected.json()) == "VALI", corrected.text
    found = await wait_until(dl.lab.client, pid_, _delivered(told.name, 2), kind="Patient")  # type: ignore[attr-defined]
    first, second = _of(told, "ADT^A31")
    assert INS not in second.to_er7() and second.segment("PID").get(7) == "19790329"  # type: ignore[union-attr]
    assert first.control_id != second.control_id and len(told.by_control_id) == 3  # ORU, A31, A31: each once

    # nobody else hears of it: not the EHR without the option, not the one that never received the patient
    assert _identity(found, plain.name) == [] and _of(plain, "ADT^A31") == []  # type: ignore[attr-defined]
    assert to(late.name, found) == [] and late.received == []  # type: ignore[attr-defined]
    # the patient's exchanges (SGL.INS.50): the ORU of its report and both identity messages, with the answers
    assert {(d["recipient"], d["action"]) for d in found} >= {(told.name, "publish"),  # type: ignore[attr-defined]
                                                              (told.name, "identity")}  # type: ignore[attr-defined]
    assert [d["state"] for d in found] == ["delivered"] * len(found)


async def _two_known_patients(dl: DeliveryLab, *ehrs: MllpReceiver) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    """A qualified and a provisional identity fed by the hospital, each with a report the EHRs received."""
    survivor_ipp, merged_ipp = new_ipp(), new_ipp()
    acks = await exchange(dl.server.mllp_port, adt("A28", f"M{survivor_ipp}", pid(survivor_ipp)),
                          adt("A28", f"M{merged_ipp}", pid(merged_ipp, ins=None, pid32="PROV")))
    assert [a.segment("MSA").get(1) for a in acks] == ["AA", "AA"]  # type: ignore[union-attr]
    [survivor] = await patients(dl.lab.client, survivor_ipp)
    [merged] = await patients(dl.lab.client, merged_ipp)
    for who in (survivor, merged):
        _, report, _ = await validated_report(dl.lab, {"NA": 140}, pid=who["id"])
        await _oru_delivered(dl, report["id"], *(e.name for e in ehrs))  # type: ignore[attr-defined]
    return survivor, merged, survivor_ipp, merged_ipp


@pytest.mark.req("SGL.INS.34")
async def test_a_merge_from_the_identity_repository_reaches_the_ehr_as_an_a40_SGL_INS_34(
        dl: DeliveryLab, ehrs: Ehrs) -> None:
    told, plain = await ehrs.add("told", "--identity-updates"), await ehrs.add("plain")
    survivor, merged, survivor_ipp, merged_ipp = await _two_known_patients(dl, told, plain)
    mrg = f"MRG|{merged_ipp}^^^CHU-X&000897406&N^PI"
    [ack] = await exchange(dl.server.mllp_port, adt("A40", f"F{merged_ipp}", pid(survivor_ipp), mrg))
    assert ack.segment("MSA").get(1) == "AA", ack.to_er7()  # type: ignore[union-attr]
    found = await wait_until(dl.lab.client, survivor["id"], _delivered(told.name, 1), kind="Patient")  # type: ignore[attr-defined]
    [a40] = _of(told, "ADT^A40")
    assert str(a40.msh.field(9)) == "ADT^A40^ADT_A39" and str(a40.msh.field(21)) == "2.11^IHE_FRANCE-2.11-PAM"
    assert a40.segment("PID").get("3.1") == survivor_ipp and INS in str(a40.segment("PID").field(3))  # type: ignore[union-attr]
    assert str(a40.segment("MRG").field(1)) == f"{merged_ipp}^^^&000897406&N^PI"  # type: ignore[union-attr]
    [delivery] = _identity(found, told.name)  # type: ignore[attr-defined]
    assert delivery["recipient_extra"]["merged"] == f"Patient/{merged['id']}"
    # the merged patient's exchanges show the merge too; the EHR without the option heard nothing
    merged_side = await deliveries(dl.lab.client, merged["id"], "Patient")
    assert delivery["id"] in [d["id"] for d in merged_side]
    assert _identity(found, plain.name) == [] and _of(plain, "ADT^A40") == []  # type: ignore[attr-defined]
    assert _of(told, "ADT^A31") == []  # the survivor's traits did not change: no update besides the merge


@pytest.mark.req("SGL.INS.34")
async def test_a_merge_made_at_the_lab_reaches_the_ehr_as_an_a40_SGL_INS_34(dl: DeliveryLab, ehrs: Ehrs) -> None:
    """``Patient/$merge`` by a biologist: the same A40 as a merge from the repository, from the write rule."""
    told = await ehrs.add("told", "--identity-updates")
    survivor, merged, survivor_ipp, merged_ipp = await _two_known_patients(dl, told)
    biologist = await dl.act_as("biologiste")
    answer = await biologist.post("Patient/$merge", json={"resourceType": "Parameters", "parameter": [
        {"name": "source-patient", "valueReference": {"reference": f"Patient/{merged['id']}"}},
        {"name": "target-patient", "valueReference": {"reference": f"Patient/{survivor['id']}"}}]})
    assert answer.status_code == 200, answer.text
    found = await wait_until(dl.lab.client, survivor["id"], _delivered(told.name, 1), kind="Patient")  # type: ignore[attr-defined]
    [a40] = _of(told, "ADT^A40")
    assert a40.segment("PID").get("3.1") == survivor_ipp  # type: ignore[union-attr]
    assert str(a40.segment("MRG").field(1)) == f"{merged_ipp}^^^&000897406&N^PI"  # type: ignore[union-attr]
    [delivery] = _identity(found, told.name)  # type: ignore[attr-defined]
    assert delivery["recipient_extra"]["merged"] == f"Patient/{merged['id']}"
    assert _of(told, "ADT^A31") == []  # the survivor's new "replaces" link is no trait change


async def test_a_refused_identity_message_is_a_failure_task_naming_the_patient(dl: DeliveryLab, ehrs: Ehrs) -> None:
    told = await ehrs.add("refusing", "--identity-updates")
    ipp = new_ipp()
    pid_ = (await dl.lab.store.create(_recup_patient(ipp))).id
    _, report, _ = await validated_report(dl.lab, {"K": 4.2}, pid=pid_)
    await _oru_delivered(dl, report["id"], told.name)  # type: ignore[attr-defined]
    told.mode = "ae"
    desk = await dl.act_as("secretaire")
    answer = await desk.post(f"Patient/{pid_}/$validate-identity", json=parameters(justificatif="CN"))
    assert answer.status_code == 200, answer.text
    found = await wait_until(dl.lab.client, pid_, lambda f: [d["state"] for d in _identity(f, told.name)] == [
        "failed"], kind="Patient")  # type: ignore[attr-defined]
    [failed] = _identity(found, told.name)  # type: ignore[attr-defined]
    assert failed["attempts"] == 1 and "Patient inconnu du DPI" in failed["history"][0]["text"]
    tasks = await worklist(dl.lab.client, "delivery-failed", f"Patient/{pid_}")
    [task] = [t for t in tasks if any(i["valueString"] == failed["id"] for i in t["input"])]
    assert f"identité Patient/{pid_}" in task["description"] and "Patient inconnu du DPI" in task["description"]
    assert task["code"]["text"] == "Envoi de l'identité au partenaire en échec : à relancer ou annuler"
    assert task["description"].startswith("Envoi de l'identité")  # not "Envoi identity de l'identité"


@pytest.mark.req("SGL.INS.05")
async def test_a_patients_exchanges_are_refused_to_a_role_without_the_permission(dl: DeliveryLab) -> None:
    technician: httpx.AsyncClient = await dl.act_as("technicien")
    pid_ = (await dl.lab.store.create(_recup_patient(new_ipp()))).id
    refused = await technician.get(f"Patient/{pid_}/$deliveries")
    assert refused.status_code == 403 and "$deliveries" in refused.text
    assert (await dl.lab.client.get("Patient/nope/$deliveries")).status_code == 404
