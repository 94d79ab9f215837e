"""The production DMP client against ``sgl dmp-simulator`` over mutual TLS: what the ANS scenarios check."""

from __future__ import annotations

from dataclasses import replace

import pytest

from facades.dmp import DmpClient, DmpRejected, DmpRequestInvalid, VihfSubject, Visibility
from facades.dmp.codes import APPROVED, DELETED, DEPRECATED
from tests.support.dmp import BIOLOGIST, DmpSimulator, crbio_submission, held

SENDER = VihfSubject.professional(BIOLOGIST)


def _by_uid(sim: DmpSimulator) -> dict[str, dict[str, object]]:
    return {d["uniqueId"]: d for d in sim.documents()}


@pytest.mark.req("SGL.DMP.01", "SGL.DOC.16")
async def test_n3_and_n1_reach_the_dmp_with_the_crbio_metadata_SGL_DMP_01_SGL_DOC_16(
        client: DmpClient, sim: DmpSimulator) -> None:
    submission = crbio_submission()
    receipt = await client.provide(submission, SENDER)
    held = _by_uid(sim)
    n3, n1 = (held[d.unique_id] for d in submission.documents)
    harness = {"uniqueId", "patientId", "formatCode", "typeCode", "confidentialityCode", "availabilityStatus",
               "replaces", "authorRpps", "vihfSubject", "received"}  # issue 13 item 8: the harness interface
    assert harness <= set(n3) and isinstance(n3["confidentialityCode"], list) and n3["received"].endswith("Z")
    assert n3["formatCode"] == "urn:ihe:lab:xd-lab:2008" and n3["mimeType"] == "text/xml"
    assert n1["formatCode"] == "urn:ihe:iti:xds-sd:pdf:2008" and n1["mimeType"] == "application/pdf"
    for doc, sent in ((n3, submission.documents[0]), (n1, submission.documents[1])):
        assert doc["typeCode"] == "11502-2"
        assert doc["patientId"] == "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"
        assert doc["confidentialityCode"] == ["N"]
        assert doc["availabilityStatus"] == APPROVED and doc["replaces"] is None
        assert doc["authorRpps"] == "10001234567" and doc["vihfSubject"] == "810001234567"
        assert doc["size"] == len(sent.content)
        assert doc["practiceSettingCode"] and doc["healthcareFacilityTypeCode"] == "SA25" and doc["classCode"]
    assert receipt.already_registered is False and set(receipt.entries) == set(held)


@pytest.mark.req("SGL.DOC.15", "SGL.DOC.16")
async def test_dossier_masking_and_visibility_become_confidentiality_codes_SGL_DOC_15_SGL_DOC_16(
        client: DmpClient, sim: DmpSimulator) -> None:
    masked = Visibility(masked_to_professionals=True, hidden_from_patient=True, hidden_from_legal_representatives=True)
    await client.provide(crbio_submission(set_id="masked", visibility=masked), SENDER)
    await client.provide(crbio_submission(set_id="secret", visibility=Visibility(secret_connection=True)), SENDER)
    held = sim.documents()
    masked_codes = {tuple(d["confidentialityCode"]) for d in held if "masked" in d["uniqueId"]}
    secret_codes = {tuple(d["confidentialityCode"]) for d in held if "secret" in d["uniqueId"]}
    assert masked_codes == {("N", "MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX")}
    assert secret_codes == {("N", "INVISIBLE_REPRESENTANTS_LEGAUX")}


@pytest.mark.req("SGL.DMP.03", "SGL.DMP.04")
async def test_partial_then_complete_replaces_then_deletion_SGL_DMP_03_SGL_DMP_04(
        client: DmpClient, sim: DmpSimulator) -> None:
    partial, complete = crbio_submission(1, status="partial"), crbio_submission(2)
    await client.provide(partial, SENDER)
    await client.provide(complete, SENDER)
    held = _by_uid(sim)
    for old, new in zip(partial.documents, complete.documents, strict=True):
        assert held[old.unique_id]["availabilityStatus"] == DEPRECATED
        assert held[new.unique_id]["availabilityStatus"] == APPROVED
        assert held[new.unique_id]["replaces"] == old.unique_id
    await client.update_status(complete, [d.unique_id for d in complete.documents], DELETED, SENDER)
    held = _by_uid(sim)
    assert [held[d.unique_id]["availabilityStatus"] for d in complete.documents] == [DELETED, DELETED]
    with pytest.raises(DmpRejected) as caught:  # deleting again: the entry is no longer Approved
        await client.update_status(complete, [complete.documents[0].unique_id], DELETED, SENDER)
    assert caught.value.permanent and caught.value.errors[0].code == "XDSMetadataUpdateError"


@pytest.mark.req("SGL.DMP.03")
async def test_replacing_a_version_the_dmp_does_not_hold_is_a_permanent_failure_SGL_DMP_03(
        client: DmpClient, sim: DmpSimulator) -> None:
    with pytest.raises(DmpRejected) as caught:
        await client.provide(crbio_submission(3, set_id="orphan"), SENDER)
    assert caught.value.permanent
    assert {e.code for e in caught.value.errors} == {"UnresolvedReferenceException"}
    assert sim.documents() == []


async def test_a_resend_after_a_lost_answer_is_recognised_not_doubled(client: DmpClient, sim: DmpSimulator) -> None:
    submission = crbio_submission(set_id="twice")
    assert await held(client, submission, SENDER) == {}
    first = await client.provide(submission, SENDER)
    assert await held(client, submission, SENDER) == {d.unique_id: APPROVED for d in submission.documents}
    other_patient = replace(submission, ins="180036915812345")  # ITI-18 answers only about the VIHF's patient
    assert await held(client, other_patient, SENDER) == {}
    again = await client.provide(submission, SENDER)
    assert (first.already_registered, again.already_registered) == (False, True)
    assert sorted(d["uniqueId"] for d in sim.documents()) == sorted(d.unique_id for d in submission.documents)


@pytest.mark.req("SGL.DMP.01")
async def test_automatic_sending_names_the_lab_automate_in_the_vihf_SGL_DMP_01(
        client: DmpClient, sim: DmpSimulator) -> None:
    automate = VihfSubject.automate("810001234567", "OpenSGL, envoi automatique, Laboratoire des Charmes")
    await client.provide(crbio_submission(set_id="auto"), automate)
    assert {d["vihfSubject"] for d in sim.documents()} == {"810001234567"}
    assert all(d["vihfRoles"] == ["AUTOMATE"] for d in sim.documents())


async def test_only_a_qualified_ins_is_sent_and_nothing_reaches_the_dmp(client: DmpClient, sim: DmpSimulator) -> None:
    submission = crbio_submission(ins="")
    with pytest.raises(DmpRequestInvalid):
        await client.provide(submission, SENDER)
    with pytest.raises(DmpRequestInvalid):
        await client.provide(crbio_submission(), VihfSubject("", "", (), ""))
    assert sim.stats()["requests"] == 0


@pytest.mark.req("SGL.DOC.15", "SGL.DMP.03")
async def test_masking_a_delivered_report_is_an_iti57_metadata_update_SGL_DOC_15_SGL_DMP_03(
        client: DmpClient, sim: DmpSimulator) -> None:
    sent = crbio_submission(set_id="later-masked")
    await client.provide(sent, SENDER)
    masked = replace(sent, visibility=Visibility(masked_to_professionals=True, hidden_from_patient=True))
    await client.update_visibility(masked, SENDER)
    held = _by_uid(sim)
    assert [held[d.unique_id]["confidentialityCode"] for d in sent.documents] == [
        ["N", "MASQUE_PS", "INVISIBLE_PATIENT"]] * 2
    assert [held[d.unique_id]["version"] for d in sent.documents] == [2, 2]
    await client.update_visibility(sent, SENDER, previous_version="2")  # unmask
    assert [d["confidentialityCode"] for d in sim.documents()] == [["N"], ["N"]]
    with pytest.raises(DmpRejected) as caught:  # a stale version number is refused, nothing changes
        await client.update_visibility(masked, SENDER, previous_version="2")
    assert {e.code for e in caught.value.errors} == {"XDSMetadataVersionError"}
    assert [d["confidentialityCode"] for d in sim.documents()] == [["N"], ["N"]]
