"""``$insi-verify``: OK leaves the identity, KO downgrades it and puts it on the worklist (SGL.INS.42-43)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from resources.ins import OID_INS_NIR, identity_status, ins_identifier, ins_identifier_for
from resources.patient_traits import birthplace_extension
from server.identity.vocabulary import history, with_reliability
from tests.support.access import caller_id
from tests.support.identity_samples import out, parameters, provisional

pytestmark = pytest.mark.db


async def verification_traces(desk: httpx.AsyncClient, pid: str) -> list[dict[str, Any]]:
    r = await desk.get("AuditEvent", params={"entity": f"Patient/{pid}"})
    return [e["resource"] for e in r.json().get("entry", [])
            if e["resource"]["subtype"][0]["code"] == "verifierInsAvecTraitsIdentite"]


@pytest.mark.req("SGL.INS.42")
async def test_verification_ok_is_traced_and_changes_nothing_SGL_INS_42(desk: httpx.AsyncClient) -> None:
    created = (await desk.post("Patient", json={k: v for k, v in provisional().items() if k != "id"})).json()
    applied = await desk.post("Patient/$insi-search", json=parameters(patient=f"Patient/{created['id']}", apply=True))
    version = out(applied.json(), "patient")["meta"]["versionId"]
    r = await desk.post(f"Patient/{created['id']}/$insi-verify")
    assert r.status_code == 200, r.text
    assert out(r.json(), "result") == "OK" and out(r.json(), "status") == "RECUP"
    assert out(r.json(), "patient")["meta"]["versionId"] == version
    [trace] = await verification_traces(desk, created["id"])
    assert trace["outcomeDesc"] == "OK" and trace["agent"][0]["who"]["identifier"]["value"] == caller_id(desk)


@pytest.mark.req("SGL.INS.43")
@pytest.mark.req("SGL.INS.42")
async def test_verification_ko_downgrades_and_puts_on_the_worklist_SGL_INS_43_42(desk: httpx.AsyncClient,
                                                                                 feed: httpx.AsyncClient) -> None:
    """A qualified identity from the identity source whose stored birth date is not the INSi one."""
    received: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [ins_identifier_for("275126322074974", OID_INS_NIR)],
        "name": [{"use": "official", "family": "ADRUN", "given": ["ZOE"]}], "gender": "female",
        "birthDate": "1975-12-30", "extension": [birthplace_extension("63220")],
    }
    r = await feed.post("Patient", json=with_reliability(received, "QUAL", {}))
    assert r.status_code == 201 and identity_status(r.json()) == "QUAL", r.text
    pid = r.json()["id"]
    r = await desk.post(f"Patient/{pid}/$insi-verify")
    assert r.status_code == 200, r.text
    assert out(r.json(), "result") == "KO" and out(r.json(), "status") == "VALI"
    after = (await desk.get(f"Patient/{pid}")).json()
    assert identity_status(after) == "VALI" and ins_identifier(after) is None
    assert after["identifier"][0]["use"] == "old"
    assert "SGL.INS.43" in history(after)[-1]["reason"]
    tasks = (await desk.get("Task", params={"focus": f"Patient/{pid}"})).json()
    assert tasks["total"] == 1 and tasks["entry"][0]["resource"]["code"]["coding"][0]["code"] == "identity-verification"
    [trace] = await verification_traces(desk, pid)
    assert trace["outcomeDesc"].startswith("KO")


async def test_identity_without_ins_cannot_be_verified(desk: httpx.AsyncClient) -> None:
    created = (await desk.post("Patient", json={k: v for k, v in provisional().items() if k != "id"})).json()
    r = await desk.post(f"Patient/{created['id']}/$insi-verify")
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Patient.identifier"]
    assert await verification_traces(desk, created["id"]) == []


@pytest.mark.req("SGL.INS.05")
async def test_a_ko_quoting_the_birthplace_reaches_no_role_without_the_ins_right_SGL_INS_05(
        desk: httpx.AsyncClient, feed: httpx.AsyncClient, tech: httpx.AsyncClient) -> None:
    """A qualified identity received without its birthplace: the INSi search (which sends no birthplace then)
    finds it and answers 63220, so the KO's Task and the Patient's status history quote that code. The
    birthplace is an INS trait, masked on the Patient for a role without ``ins``: before, a technicien read it in
    the Task and in the history."""
    received: dict[str, Any] = {
        "resourceType": "Patient", "identifier": [ins_identifier_for("275126322074974", OID_INS_NIR)],
        "name": [{"use": "official", "family": "ADRUN", "given": ["ZOE"]}], "gender": "female",
        "birthDate": "1975-12-31",
    }
    r = await feed.post("Patient", json=with_reliability(received, "QUAL", {}))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    verified = await desk.post(f"Patient/{pid}/$insi-verify")
    assert verified.status_code == 200 and out(verified.json(), "result") == "KO", verified.text
    [task] = [e["resource"] for e in (await desk.get("Task", params={"focus": f"Patient/{pid}"})).json()["entry"]]
    assert "birthplace '' differs from INSi '63220'" in task["description"]  # the secretary's worklist
    seen = (await tech.get(f"Task/{task['id']}")).json()
    assert "63220" not in str(seen), seen["description"]
    assert "birthplace [masqué] differs from INSi [masqué]" in seen["description"]
    patient = await tech.get(f"Patient/{pid}")
    assert patient.status_code == 200 and "SGL.INS.43" in history(patient.json())[-1]["reason"]
    assert "63220" not in patient.text
