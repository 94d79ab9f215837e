"""``$insi-search`` end to end: sgl serve -> simulated INSi over mutual TLS, kit identities."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from resources.ins import identity_status, ins_identifier
from resources.patient_traits import birthplace_extension
from server.identity.vocabulary import attribute_extension, history
from tests.support.access import caller_id
from tests.support.identity_samples import ins_of, out, parameters, provisional

pytestmark = pytest.mark.db


async def create(client: httpx.AsyncClient, patient: dict[str, Any]) -> dict[str, Any]:
    r = await client.post("Patient", json={k: v for k, v in patient.items() if k != "id"})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def person(family: str, given: str, sex: str, born: str, cog: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "name": [{"use": "official", "family": family, "given": [given]}],
            "gender": {"F": "female", "M": "male"}[sex], "birthDate": born, "extension": [birthplace_extension(cog)]}


async def insi_traces(client: httpx.AsyncClient, pid: str) -> list[dict[str, Any]]:
    r = await client.get("AuditEvent", params={"entity": f"Patient/{pid}", "type":
                                               "https://opensgl.org/fhir/CodeSystem/audit-type|insi"})
    assert r.status_code == 200, r.text
    return [e["resource"] for e in r.json().get("entry", [])]


def detail(event: dict[str, Any], kind: str) -> str | None:
    for entity in event["entity"]:
        for row in entity.get("detail", []):
            if row["type"] == kind:
                return str(row.get("valueString", row.get("valueBase64Binary")))
    return None


@pytest.mark.req("SGL.INS.25")
@pytest.mark.req("SGL.INS.13")
@pytest.mark.req("SGL.INS.23")
@pytest.mark.req("SGL.INS.22")
@pytest.mark.req("SGL.INS.40")
@pytest.mark.req("SGL.INS.41")
@pytest.mark.req("SGL.INS.04")
async def test_insi_then_justificatif_makes_a_qualified_identity_SGL_INS_25_13_23_22_40_41_04(
        desk: httpx.AsyncClient) -> None:
    patient = await create(desk, provisional())
    pid = patient["id"]
    assert identity_status(patient) == "PROV"
    r = await desk.post("Patient/$insi-search", json=parameters(patient=f"Patient/{pid}", apply=True))
    assert r.status_code == 200, r.text
    body = r.json()
    assert out(body, "code") == "00"
    recup = out(body, "patient")
    assert identity_status(recup) == "RECUP"
    assert (ins_of(recup)["value"], ins_of(recup)["system"]) == ("297022A02077878", "urn:oid:1.2.250.1.213.1.4.8")
    assert out(body, "identity")["birthDate"] == "1997-02-26"
    [trace] = await insi_traces(desk, pid)
    assert trace["agent"][0]["who"]["identifier"]["value"] == caller_id(desk) and trace["recorded"].endswith("Z")
    assert detail(trace, "code") == "00" and detail(trace, "ins") == "297022A02077878"
    assert detail(trace, "oid") == "1.2.250.1.213.1.4.8" and detail(
        trace, "traits") == "ADRTROIS|DOMINIQUE|F|1997-02-26|2A020"
    assert b"RECSANSVITALE" in base64.b64decode(trace["entity"][-1]["query"])

    r = await desk.post(f"Patient/{pid}/$validate-identity", json=parameters(justificatif="CN"))
    assert r.status_code == 200, r.text
    qual = out(r.json(), "patient")
    assert identity_status(qual) == "QUAL" and ins_identifier(qual) is not None
    assert [h["status"] for h in history(qual)] == ["PROV", "RECUP", "QUAL"]


@pytest.mark.req("SGL.INS.25")
@pytest.mark.req("SGL.INS.24")
@pytest.mark.req("SGL.INS.18")
async def test_justificatif_then_insi_makes_a_qualified_identity_SGL_INS_25_24_18(desk: httpx.AsyncClient) -> None:
    patient = await create(desk, person("ADRUN", "ZOE", "F", "1975-12-31", "63220"))
    r = await desk.post(f"Patient/{patient['id']}/$validate-identity", json=parameters(justificatif="PA"))
    vali = out(r.json(), "patient")
    assert identity_status(vali) == "VALI" and ins_identifier(vali) is None
    mode = next(s for e in vali["extension"] if e["url"].endswith("identity-reliability") for s in e["extension"]
                if s["url"] == "validationMode")
    assert mode["valueCoding"]["code"] == "PA"
    r = await desk.post("Patient/$insi-search", json=parameters(patient=f"Patient/{patient['id']}", apply=True))
    qual = out(r.json(), "patient")
    assert identity_status(qual) == "QUAL" and ins_of(qual)["value"] == "275126322074974"


@pytest.mark.parametrize("family,given,sex,born,code", [
    ("HOUILLES", "PIERRE", "M", "1993-01-27", "01"),
    ("DE VINCI", "LEONARDO", "M", "2014-02-01", "02"),
    ("TCHITCHI", "OLA", "F", "1936-06-21", "01"),
])
async def test_kit_identities_without_a_single_answer_change_nothing(
        desk: httpx.AsyncClient, family: str, given: str, sex: str, born: str, code: str) -> None:
    patient = await create(desk, person(family, given, sex, born, "99999"))
    r = await desk.post("Patient/$insi-search", json=parameters(patient=f"Patient/{patient['id']}", apply=True))
    assert r.status_code == 200 and out(r.json(), "code") == code and out(r.json(), "patient") is None
    assert (await desk.get(f"Patient/{patient['id']}")).json()["meta"]["versionId"] == "1"


@pytest.mark.req("SGL.INS.15")
@pytest.mark.parametrize("family,given,sex,born,rule", [
    ("LUNAIRE", "JEANNE", "F", "1950-03-00", "SGL.INS.15"),
    ("HERMANN", "GATIEN", "M", "1981-03-24", "SGL.INS.08"),
])
async def test_unimportable_answer_is_refused_and_nothing_changes_SGL_INS_15(
        desk: httpx.AsyncClient, family: str, given: str, sex: str, born: str, rule: str) -> None:
    patient = await create(desk, person(family, given, sex, born.replace("-00", "-01"), "63220"))
    query = parameters(patient=f"Patient/{patient['id']}", apply=True, birthDate=born)
    r = await desk.post("Patient/$insi-search", json=query)
    assert r.status_code == 422 and rule in r.text, r.text
    assert r.json()["issue"][0]["expression"][0].startswith("RESULTAT/")
    after = (await desk.get(f"Patient/{patient['id']}")).json()
    assert after["meta"]["versionId"] == "1" and identity_status(after) == "PROV"
    assert len(await insi_traces(desk, patient["id"])) == 1, "the refused answer is still traced"


async def test_kit_history_and_nia_are_kept(desk: httpx.AsyncClient) -> None:
    histo = await create(desk, person("ECETINSI", "PIERRE-ALAIN", "M", "2009-07-14", "63220"))
    r = await desk.post("Patient/$insi-search", json=parameters(patient=f"Patient/{histo['id']}", apply=True))
    written = out(r.json(), "patient")
    old = sorted(i["value"] for i in written["identifier"] if i.get("use") == "old")
    assert old == ["209066322012355", "209076322083439"] and ins_of(written)["value"] == "109076322083489"
    nia = await create(desk, person("PROVISOIRE", "MATRICULE", "M", "2009-07-01", "63220"))
    r = await desk.post("Patient/$insi-search", json=parameters(patient=f"Patient/{nia['id']}", apply=True))
    assert ins_of(out(r.json(), "patient"))["system"] == "urn:oid:1.2.250.1.213.1.4.9"


@pytest.mark.req("SGL.INS.14")
async def test_first_names_disagreeing_with_insi_raise_an_alert_SGL_INS_14(desk: httpx.AsyncClient) -> None:
    query = parameters(birthName="TCHITCHI", given=["CATARINA", "ROSA"], sex="F", birthDate="1936-06-21")
    r = await desk.post("Patient/$insi-search", json=query)
    assert r.status_code == 200 and out(r.json(), "code") == "00"
    issues = out(r.json(), "outcome")["issue"]
    assert issues[0]["severity"] == "warning" and "SGL.INS.14" in issues[0]["diagnostics"]
    assert "CATARINA BELLA" in issues[0]["diagnostics"]


@pytest.mark.req("SGL.INS.49")
@pytest.mark.req("SGL.INS.40")
async def test_search_by_carte_vitale_SGL_INS_49_40(desk: httpx.AsyncClient) -> None:
    query = parameters(mode="carte-vitale", birthName="ADRTROIS", birthDate="1997-02-26", birthRank="1",
                       nir="297022A02077878")
    r = await desk.post("Patient/$insi-search", json=query)
    assert r.status_code == 200, r.text
    assert out(r.json(), "code") == "00" and ins_of(out(r.json(), "identity"))["value"] == "297022A02077878"
    wrong_key = parameters(mode="carte-vitale", birthName="ADRTROIS", birthDate="1997-02-26", birthRank="1",
                           nir="297022A02077879")
    bad = await desk.post("Patient/$insi-search", json=wrong_key)
    assert bad.status_code == 400 and bad.json()["issue"][0]["expression"] == ["Parameters.parameter('nir')"]


@pytest.mark.req("SGL.INS.28")
@pytest.mark.parametrize("attribute", ["DOUTE", "FICTI"])
async def test_doubtful_or_fictitious_identity_never_reaches_insi_SGL_INS_28(desk: httpx.AsyncClient,
                                                                          attribute: str) -> None:
    marked = provisional()
    marked["extension"].append(attribute_extension(attribute))
    patient = await create(desk, marked)
    r = await desk.post("Patient/$insi-search", json=parameters(patient=f"Patient/{patient['id']}", apply=True))
    assert r.status_code == 422 and "SGL.INS.28" in r.text
    assert await insi_traces(desk, patient["id"]) == []


async def test_malformed_parameters_are_refused_with_their_location(desk: httpx.AsyncClient) -> None:
    r = await desk.post("Patient/$insi-search", json={"resourceType": "Patient"})
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["resourceType"]
    r = await desk.post("Patient/$insi-search", json=parameters(birthName="ADRUN", sex="F", birthDate="1975-12-31"))
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Parameters.parameter('given')"]
    r = await desk.post("Patient/$insi-search", json=parameters(apply=True))
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Parameters.parameter('patient')"]
