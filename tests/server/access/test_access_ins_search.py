"""A FHIR search by matricule INS follows the identity search's rules: all 15 characters and a valid key
(SGL.INS.08), and only for a role entitled to see the INS (SGL.INS.05).

Found by probing a running server: ``Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|<wrong key>`` answered an
empty Bundle (as if nobody had that INS), and a ``technicien`` (INS masked on every read) found the patient a
matricule belongs to, by the INS system, by the bare 15 characters or through a chain from Observation.
"""

from __future__ import annotations

import random

import httpx
import pytest

from resources.ins import OID_INS_NIR, matricule_key
from tests.support.access import ActAs

pytestmark = pytest.mark.db
INS = f"urn:oid:{OID_INS_NIR}"


def _matricule() -> str:
    head = f"2{random.randint(50, 99)}{random.randint(1, 12):02d}75{random.randint(100000, 999999)}"
    return head + f"{matricule_key(head):02d}"


@pytest.fixture(scope="module")
async def patient_with_ins(fhir: httpx.AsyncClient) -> tuple[str, str]:
    matricule = _matricule()
    created = await fhir.post("Patient", json={
        "resourceType": "Patient", "identifier": [{"system": INS, "value": matricule}],
        "name": [{"family": "INSSONDE", "given": ["MARIE"]}], "gender": "female", "birthDate": "1975-04-12"})
    assert created.status_code == 201, created.text
    return created.json()["id"], matricule


@pytest.mark.req("SGL.INS.08")
async def test_a_search_by_matricule_ins_needs_15_characters_and_a_valid_key_SGL_INS_08(
        fhir: httpx.AsyncClient, patient_with_ins: tuple[str, str]) -> None:
    rid, matricule = patient_with_ins
    found = await fhir.get("Patient", params={"identifier": f"{INS}|{matricule}"})
    assert found.status_code == 200 and [e["resource"]["id"] for e in found.json()["entry"]] == [rid]
    wrong_key = matricule[:13] + f"{(int(matricule[13:]) + 1) % 97:02d}"
    for bad, why in ((matricule[:13], "15 characters"), (wrong_key, f"expected {matricule[13:]}")):
        refused = await fhir.get("Patient", params={"identifier": f"{INS}|{bad}"})
        assert refused.status_code == 422 and "SGL.INS.08" in refused.text and why in refused.text, refused.text
        assert refused.json()["issue"][0]["expression"] == ["identifier"]
    every = await fhir.get("Patient", params={"identifier": f"{INS}|", "_summary": "count"})
    assert every.status_code == 200 and every.json()["total"] >= 1


@pytest.mark.req("SGL.INS.05")
async def test_a_role_without_the_ins_right_cannot_look_an_ins_up_SGL_INS_05(
        act_as: ActAs, patient_with_ins: tuple[str, str]) -> None:
    rid, matricule = patient_with_ins
    tech = await act_as("technicien")
    assert (await tech.get(f"Patient/{rid}")).status_code == 200  # the identity itself, INS masked
    for params in ({"identifier": f"{INS}|{matricule}"}, {"identifier": matricule},
                   {"identifier": f"urn:oid:1.2.250.1.71.4.2.7|IPP-X,{INS}|{matricule}"}):
        refused = await tech.get("Patient", params=params)
        assert refused.status_code == 403 and "'ins on Patient'" in refused.text, refused.text
    chained = await tech.get("Observation", params={"subject:Patient.identifier": f"{INS}|{matricule}"})
    assert chained.status_code == 403 and "'ins on Patient'" in chained.text
    batch = await tech.post("", json={"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": f"Patient?identifier={matricule}"}}]})
    assert batch.status_code == 200 and batch.json()["entry"][0]["response"]["status"] == "403", batch.text
    assert (await tech.get("Patient", params={"identifier": "IPP-X"})).status_code == 200


@pytest.mark.req("SGL.INS.05")
async def test_a_role_without_the_ins_right_cannot_sort_patients_by_identifier_SGL_INS_05(
        act_as: ActAs, fhir: httpx.AsyncClient, patient_with_ins: tuple[str, str]) -> None:
    """Found by probing: ``Patient?_sort=identifier&_count=1`` answered a technicien a next link whose cursor
    (the last entry's sort key, base64 of JSON) held the matricule the entry itself had masked; a forged cursor
    under that sort would have been a range look-up on matricules."""
    rid, matricule = patient_with_ins
    other = await fhir.post("Patient", json={
        "resourceType": "Patient", "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.7", "value": "9" * 20}],
        "name": [{"family": "INSSONDE", "given": ["LEA"]}], "gender": "female", "birthDate": "1980-02-03"})
    assert other.status_code == 201, other.text
    both = {"_id": f"{rid},{other.json()['id']}", "_count": "1"}
    tech = await act_as("technicien")
    for sort in ("identifier", "-identifier", "family,identifier"):
        refused = await tech.get("Patient", params={**both, "_sort": sort})
        assert refused.status_code == 403 and "'ins on Patient'" in refused.text, (sort, refused.text)
    page = await fhir.get("Patient", params={**both, "_sort": "identifier"})
    assert page.status_code == 200 and [e["resource"]["id"] for e in page.json()["entry"]] == [rid], page.text
    assert (await tech.get("Patient", params={**both, "_sort": "family"})).status_code == 200
