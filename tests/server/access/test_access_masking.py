"""What masking on the way out (``server/access/masking.py``) hides from roles the table does not entitle,
where it is not a structured INS identifier: a document's content stored inline (base64 ``attachment.data``)
from roles that may not read Binary, and matricules quoted in a Task's free text from roles without ``ins``.
Each answer is read over real HTTP as the role reads it; the role that is entitled still gets it whole."""

from __future__ import annotations

import base64

import pytest

from tests.support.access import ActAs

pytestmark = pytest.mark.db
MATRICULE = "279035121518989"
"""A NIR with its key, as an INSi answer or a partner's error quotes it."""


async def test_a_document_stored_inline_reaches_no_role_that_may_not_read_binary_SGL_INS_05(
        act_as: ActAs) -> None:
    """A partner's or a client's DocumentReference may carry the CR-Bio itself, base64 in ``attachment.data``
    (FHIR allows it; the server's own point to a Binary). INS masking cannot see inside: before, a technicien
    (who reads DocumentReference, not Binary) got the CDA with its INS."""
    biologist = await act_as("biologiste")
    cda = (b'<ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget><patientRole>'
           b'<id root="1.2.250.1.213.1.4.8" extension="' + MATRICULE.encode() + b'"/></patientRole></recordTarget>'
           b'</ClinicalDocument>')
    inline = base64.b64encode(cda).decode("ascii")
    stored = await biologist.post("DocumentReference", json={
        "resourceType": "DocumentReference", "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11502-2"}]},
        "description": "CR-Bio reçu du laboratoire sous-traitant",
        "content": [{"attachment": {"contentType": "text/xml", "title": "CR-BIO.xml", "data": inline}}]})
    assert stored.status_code == 201, stored.text
    doc_id = stored.json()["id"]
    for role in ("technicien", "preleveur"):
        client = await act_as(role)
        read = await client.get(f"DocumentReference/{doc_id}")
        found = await client.get("DocumentReference", params={"_id": doc_id})
        assert read.status_code == 200 and found.status_code == 200, (read.text, found.text)
        for answer in (read.text, found.text):
            assert inline not in answer, role
        attachment = read.json()["content"][0]["attachment"]
        assert "data" not in attachment and attachment["title"] == "CR-BIO.xml"
        assert {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                "valueCode": "masked"} in attachment["extension"]
    secretary = await act_as("secretaire")  # may read Binary: the content as stored
    assert (await secretary.get(f"DocumentReference/{doc_id}")).json()["content"][0]["attachment"]["data"] == inline


async def test_a_matricule_quoted_in_a_task_reaches_no_role_without_the_ins_right_SGL_INS_05(act_as: ActAs) -> None:
    """A worklist Task's text is free text: an INSi verification KO quotes the stored and the active INS, a
    failed delivery the partner's error. Before, technicien and automate (who read Tasks) read the matricule."""
    secretary = await act_as("secretaire")
    description = (f"DMP : le patient INS {MATRICULE} est inconnu (erreur DMPC_INS_INCONNU) ; "
                   f"matricule INS 1090763220834 historique")
    created = await secretary.post("Task", json={
        "resourceType": "Task", "status": "requested", "intent": "order", "description": description,
        "input": [{"type": {"text": "error"}, "valueString": f"INS {MATRICULE}"}],
        "note": [{"text": f"rappeler le DMP pour {MATRICULE}"}]})
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    for role in ("technicien", "automate"):
        client = await act_as(role)
        for answer in (await client.get(f"Task/{task_id}"), await client.get("Task", params={"_id": task_id})):
            assert answer.status_code == 200, answer.text
            assert MATRICULE not in answer.text and "1090763220834" not in answer.text, role
        read = (await client.get(f"Task/{task_id}")).json()
        assert read["description"].startswith("DMP : le patient INS [INS masqué] est inconnu")
        assert read["id"] == task_id
    assert (await secretary.get(f"Task/{task_id}")).json()["description"] == description
