"""``$receive-identity``: identities sent by another domain before their health data (SGL.INS.44-47)."""

from __future__ import annotations

import random
import string
from typing import Any

import httpx
import pytest

from facades.insi import SimulatorHandle
from resources.ins import OID_INS_NIR, identity_status, ins_identifier, ins_identifier_for
from resources.patient_traits import birthplace_extension
from server.identity.vocabulary import with_reliability
from tests.support.identity_samples import out

pytestmark = pytest.mark.db


def sent(family: str, given: str, sex: str, born: str, cog: str, matricule: str) -> dict[str, Any]:
    """A Patient as a partner sends it: qualified in its own domain, with its INS."""
    body = {"resourceType": "Patient", "identifier": [ins_identifier_for(matricule, OID_INS_NIR)],
            "name": [{"use": "official", "family": family, "given": [given]}],
            "gender": {"F": "female", "M": "male"}[sex], "birthDate": born, "extension": [birthplace_extension(cog)]}
    return with_reliability(body, "QUAL", {})


async def receive(desk: httpx.AsyncClient, patient: dict[str, Any]) -> dict[str, Any]:
    r = await desk.post("Patient/$receive-identity",
                        json={"resourceType": "Parameters", "parameter": [{"name": "patient", "resource": patient}]})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.req("SGL.INS.46")
async def test_ins_known_locally_as_qualified_needs_no_insi_call_SGL_INS_46(
        desk: httpx.AsyncClient, feed: httpx.AsyncClient, insi_simulator: SimulatorHandle) -> None:
    local = sent("TCHITCHI", "CATARINA", "F", "1936-06-21", "63220", "236066322083656")
    r = await feed.post("Patient", json=local)
    assert r.status_code == 201 and identity_status(r.json()) == "QUAL", r.text
    calls = len(insi_simulator.received)
    body = await receive(desk, local)
    assert (out(body, "result"), out(body, "integrate"), out(body, "patient")["id"]) == ("LOCAL", True, r.json()["id"])
    assert len(insi_simulator.received) == calls


@pytest.mark.req("SGL.INS.46")
async def test_unknown_identity_verified_ok_is_created_as_retrieved_SGL_INS_46(desk: httpx.AsyncClient,
                                                                             insi_simulator: SimulatorHandle) -> None:
    calls = len(insi_simulator.received)
    body = await receive(desk, sent("ADRTROIS", "TOUSSAINT", "M", "1960-01-01", "2B020", "160012B02077713"))
    assert (out(body, "result"), out(body, "integrate"), out(body, "created")) == ("OK", True, True)
    patient = out(body, "patient")
    assert identity_status(patient) == "RECUP" and (ins_identifier(patient) or {}).get("value") == "160012B02077713"
    assert len(insi_simulator.received) == calls + 1


@pytest.mark.req("SGL.INS.44")
@pytest.mark.req("SGL.INS.47")
async def test_ko_on_a_known_patient_leaves_it_unchanged_and_holds_the_data_SGL_INS_44_47(
        desk: httpx.AsyncClient) -> None:
    known = {"resourceType": "Patient", "name": [{"use": "official", "family": "CORSE", "given": ["ANTHONY"]}],
             "gender": "male", "birthDate": "1980-03-02", "extension": [birthplace_extension("2B020")]}
    r = await desk.post("Patient", json=known)
    assert r.status_code == 201, r.text
    body = await receive(desk, sent("CORSE", "ANTHONY", "M", "1980-03-02", "63220", "180032B02040123"))
    assert (out(body, "result"), out(body, "integrate"), out(body, "created")) == ("KO", False, False)
    assert out(body, "patient")["id"] == r.json()["id"]
    stored = (await desk.get(f"Patient/{r.json()['id']}")).json()
    assert stored["meta"]["versionId"] == "1" and "identifier" not in stored
    task = out(body, "task")
    assert task["focus"]["reference"] == f"Patient/{r.json()['id']}" and task["status"] == "requested"


@pytest.mark.req("SGL.INS.45")
@pytest.mark.req("SGL.INS.47")
async def test_ko_on_an_unknown_patient_creates_it_without_ins_SGL_INS_45_47(desk: httpx.AsyncClient) -> None:
    family = "INCONNU" + "".join(random.choice(string.ascii_uppercase) for _ in range(8))
    body = await receive(desk, sent(family, "PIERRE", "M", "1993-01-27", "63220", "209066322012355"))
    assert (out(body, "result"), out(body, "integrate"), out(body, "created")) == ("KO", False, True)
    patient = out(body, "patient")
    assert identity_status(patient) == "PROV" and ins_identifier(patient) is None
    assert [i["use"] for i in patient["identifier"]] == ["old"]
    tasks = (await desk.get("Task", params={"focus": f"Patient/{patient['id']}"})).json()
    assert tasks["total"] == 1


async def test_received_patient_without_ins_is_refused(desk: httpx.AsyncClient) -> None:
    r = await desk.post("Patient/$receive-identity", json={"resourceType": "Parameters", "parameter": [
        {"name": "patient", "resource": {"resourceType": "Patient", "gender": "male"}}]})
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Patient.identifier"]
