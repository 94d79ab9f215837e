"""The INS authority of a Patient identifier is written ``urn:oid:<OID>`` (FR Core), or the Patient is refused.

Found by probing a running server as a foreign desk software would write it: a Patient whose INS identifier had
the system ``URN:OID:1.2.250.1.213.1.4.8`` (another case) or `` urn:oid:1.2.250.1.213.1.4.8`` (a space ahead)
was stored as an ordinary identifier, so a ``technicien`` read the matricule unmasked and found the patient by
it; with the bare OID ``1.2.250.1.213.1.4.8`` the read was masked but the search by ``<bare OID>|<matricule>``
still told the technicien whose matricule it was (SGL.INS.05).
"""

from __future__ import annotations

import random

import pytest

from resources.ins import OID_INS_NIR, matricule_key
from tests.support.access import ActAs

pytestmark = pytest.mark.db


def _matricule() -> str:
    head = f"1{random.randint(50, 99)}{random.randint(1, 12):02d}33{random.randint(100000, 999999)}"
    return head + f"{matricule_key(head):02d}"


@pytest.mark.req("SGL.INS.05")
@pytest.mark.parametrize("system", [OID_INS_NIR, f"URN:OID:{OID_INS_NIR}", f" urn:oid:{OID_INS_NIR}",
                                    f"urn:oid:{OID_INS_NIR} "])
async def test_an_ins_authority_written_otherwise_than_fr_core_is_refused_SGL_INS_05(
        system: str, act_as: ActAs) -> None:
    desk, bench = await act_as("secretaire"), await act_as("technicien")
    matricule = _matricule()
    answer = await desk.post("Patient", json={
        "resourceType": "Patient", "identifier": [{"system": system, "value": matricule}],
        "name": [{"family": "OIDSONDE", "given": ["LUC"]}], "gender": "male", "birthDate": "1962-07-14"})
    assert answer.status_code == 422, answer.text
    issue = answer.json()["issue"][0]
    assert issue["expression"] == ["Patient.identifier[0].system"], issue
    assert f"urn:oid:{OID_INS_NIR}" in issue["diagnostics"] and matricule not in answer.text
    found = await bench.get("Patient", params={"identifier": f"{system}|{matricule}"})
    assert found.status_code == 200 and found.json()["total"] == 0, found.text


async def test_the_fr_core_ins_system_is_still_accepted(act_as: ActAs) -> None:
    desk = await act_as("secretaire")
    answer = await desk.post("Patient", json={
        "resourceType": "Patient", "identifier": [{"system": f"urn:oid:{OID_INS_NIR}", "value": _matricule()}],
        "name": [{"family": "OIDSONDE", "given": ["LUC"]}], "gender": "male", "birthDate": "1962-07-14"})
    assert answer.status_code == 201, answer.text
