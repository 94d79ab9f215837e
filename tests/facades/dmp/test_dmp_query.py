"""ITI-18 Registry Stored Query from the production client: FindDocuments and GetDocuments against
``sgl dmp-simulator`` (what it holds, for the VIHF's patient only), and the client's reading of
AdhocQueryResponses shaped as another registry writes them (other prefixes, extra parts, a Failure)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from facades.dmp import DmpClient, DmpRejected, VihfSubject, codes
from facades.dmp.response import read_response
from tests.support.dmp import BIOLOGIST, DmpSimulator, crbio_submission, held

SENDER = VihfSubject.professional(BIOLOGIST)
N3 = "urn:ihe:lab:xd-lab:2008"
XDS_FORMATS = "1.3.6.1.4.1.19376.1.2.3"


async def test_find_documents_lists_what_the_dmp_holds_for_the_patient_by_status(
        client: DmpClient, sim: DmpSimulator) -> None:
    first, second = crbio_submission(1, status="partial"), crbio_submission(2)
    await client.provide(first, SENDER)
    await client.provide(second, SENDER)
    approved = await client.find_documents(second, SENDER)
    crbio = [e for e in approved if e.format_code != codes.DS]
    assert sorted(e.unique_id for e in crbio) == sorted(d.unique_id for d in second.documents)
    held = {d["uniqueId"]: d for d in sim.documents()}
    for entry in crbio:  # every part read back is what the simulator stored
        stored = held[entry.unique_id]
        assert (entry.entry_uuid, entry.status, entry.patient_id) == (stored["entryUUID"], codes.APPROVED,
                                                                      stored["patientId"])
        assert (entry.format_code, entry.type_code, entry.class_code, entry.mime_type) == (
            stored["formatCode"], "11502-2", stored["classCode"], stored["mimeType"])
        assert (entry.hash, entry.size, list(entry.confidentiality)) == (stored["hash"], stored["size"], ["N"])
    signatures = [e for e in approved if e.format_code == codes.DS]
    assert len(signatures) == 2 and {e.mime_type for e in signatures} == {"text/xml"}  # one XAdES entry per set
    both = await client.find_documents(second, SENDER, statuses=(codes.APPROVED, codes.DEPRECATED),
                                       format_codes=(f"{N3}^^{XDS_FORMATS}",))
    assert sorted((e.unique_id, e.status) for e in both) == sorted(
        [(first.documents[0].unique_id, codes.DEPRECATED), (second.documents[0].unique_id, codes.APPROVED)])


async def test_get_documents_and_find_documents_answer_only_about_the_vihf_patient(
        client: DmpClient, sim: DmpSimulator) -> None:
    submission = crbio_submission(set_id="only-mine")
    await client.provide(submission, SENDER)
    other = replace(submission, ins="180036915812345")
    assert await held(client, other, SENDER) == {}
    assert await client.find_documents(other, SENDER) == ()
    assert set(await held(client, submission, SENDER)) == {d.unique_id for d in submission.documents}


def _answer(body: str) -> bytes:
    return (f'<?xml version="1.0"?><env:Envelope xmlns:env="{codes.SOAP}"><env:Header/><env:Body>{body}'
            '</env:Body></env:Envelope>').encode()


def test_an_adhoc_query_response_of_another_shape_is_read() -> None:
    """Default namespaces instead of prefixes, an ObjectRef and slots the client does not use, a masked entry."""
    entry = "urn:uuid:0b5a8d5e-1c3e-4f8a-9b1e-7c2d3e4f5a6b"
    body = f'''<AdhocQueryResponse xmlns="{codes.QUERY}" status="{codes.SUCCESS}">
      <RegistryObjectList xmlns="{codes.RIM}">
        <ObjectRef id="urn:uuid:aaaaaaaa-0000-4000-8000-000000000000"/>
        <ExtrinsicObject id="{entry}" status="{codes.APPROVED}" mimeType="text/xml" objectType="{codes.DOCUMENT_ENTRY}">
          <Slot name="creationTime"><ValueList><Value>20240104093000</Value></ValueList></Slot>
          <Slot name="hash"><ValueList><Value>da39a3ee5e6b4b0d3255bfef95601890afd80709</Value></ValueList></Slot>
          <Slot name="size"><ValueList><Value>1234</Value></ValueList></Slot>
          <Name><LocalizedString value="CR de biologie"/></Name>
          <Classification classificationScheme="{codes.DE_TYPE}" nodeRepresentation="11502-2"/>
          <Classification classificationScheme="{codes.DE_FORMAT}" nodeRepresentation="{N3}"/>
          <Classification classificationScheme="{codes.DE_CONFIDENTIALITY}" nodeRepresentation="N"/>
          <Classification classificationScheme="{codes.DE_CONFIDENTIALITY}" nodeRepresentation="MASQUE_PS"/>
          <ExternalIdentifier identificationScheme="{codes.DE_PATIENT_ID}" value="{PATIENT.replace("&", "&amp;")}"/>
          <ExternalIdentifier identificationScheme="{codes.DE_UNIQUE_ID}" value="1.2.250.1.999.1^CR-42"/>
        </ExtrinsicObject>
      </RegistryObjectList></AdhocQueryResponse>'''
    [found] = read_response(_answer(body)).entries
    assert (found.entry_uuid, found.unique_id, found.status) == (entry, "1.2.250.1.999.1^CR-42", codes.APPROVED)
    assert found.patient_id.startswith("279035121518989^^^&") and found.format_code == N3
    assert found.confidentiality == ("N", "MASQUE_PS") and found.size == 1234 and found.class_code == ""


@pytest.mark.parametrize(("code", "expected"), [("XDSStoredQueryParamNumber", DmpRejected),
                                                ("XDSUnknownStoredQuery", DmpRejected)])
def test_a_failed_stored_query_is_a_registry_refusal(code: str, expected: type[Exception]) -> None:
    body = (f'<q:AdhocQueryResponse xmlns:q="{codes.QUERY}" xmlns:rs="{codes.RS}" status="{codes.FAILURE}">'
            f'<rs:RegistryErrorList><rs:RegistryError errorCode="{code}" codeContext="bad query" '
            f'severity="{codes.SEVERITY_ERROR}"/></rs:RegistryErrorList></q:AdhocQueryResponse>')
    with pytest.raises(expected, match=code):
        read_response(_answer(body))


def _held(sim_entries: int = 1) -> list[object]:
    from types import SimpleNamespace

    record = {"patientId": PATIENT, "mimeType": "text/xml", "formatCode": N3, "typeCode": "11502-2", "classCode": "10",
              "confidentialityCode": ["N"], "hash": "ab", "size": 2}
    return [SimpleNamespace(entry_uuid=f"urn:uuid:{i}", unique_id=f"uid-{i}", status=codes.APPROVED, record=record)
            for i in range(sim_entries)]


PATIENT = "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"


@pytest.mark.parametrize(("drop", "query_id", "error"), [
    ("$XDSDocumentEntryStatus", codes.FIND_DOCUMENTS, "XDSStoredQueryParamNumber"),
    ("$XDSDocumentEntryPatientId", codes.FIND_DOCUMENTS, "XDSStoredQueryParamNumber"),
    (None, "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3", "XDSUnknownStoredQuery"),  # GetAll: not simulated
])
def test_the_simulator_refuses_a_stored_query_it_cannot_answer(drop: str | None, query_id: str, error: str) -> None:
    from facades.dmp import query
    from facades.dmp.simulator import queries

    request = query.find_documents(PATIENT, (codes.APPROVED,))
    adhoc = request.find(f"{{{codes.RIM}}}AdhocQuery")
    assert adhoc is not None
    adhoc.set("id", query_id)
    for slot in adhoc.findall(f"{{{codes.RIM}}}Slot"):
        if slot.get("name") == drop:
            adhoc.remove(slot)
    found, errors = queries.answer(adhoc, _held(), PATIENT)  # type: ignore[arg-type]
    assert found == [] and [e.code for e in errors] == [error]
    assert [e.unique_id for e in queries.answer(query.find_documents(PATIENT, (codes.APPROVED,)).find(
        f"{{{codes.RIM}}}AdhocQuery"), _held(2), PATIENT)[0]] == ["uid-0", "uid-1"]  # type: ignore[arg-type]
    assert queries.answer(None, _held(), PATIENT)[1][0].code == "XDSRegistryMetadataError"
