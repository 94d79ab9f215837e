"""``POST /fhir/ServiceRequest/$refusal``: a refusal changed later is a new Consent version, and
every version keeps its Provenance (who recorded it, when, what)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.database import Database
from server.orders import refused_channels
from tests.support.access import caller_id
from tests.support.orders_lab import People, count, order_parameters, written


async def _order(fhir: httpx.AsyncClient, people: People, refusals: tuple[str, ...]) -> dict[str, Any]:
    resp = await fhir.post("ServiceRequest/$order", json=order_parameters(people, ["GLY"], correspondents=10,
                                                                           refusals=refusals))
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _refusal(requisition: dict[str, Any], channel: str, refused: bool) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [
        {"name": "requisition", "valueIdentifier": requisition},
        {"name": "channel", "valueCode": channel},
        {"name": "refused", "valueBoolean": refused},
    ]}


async def _traces(fhir: httpx.AsyncClient, consent_id: str) -> list[dict[str, Any]]:
    resp = await fhir.get("Provenance", params={"target": f"Consent/{consent_id}"})
    return sorted((e["resource"] for e in resp.json().get("entry", [])), key=lambda p: p["target"][0]["reference"])


@pytest.mark.parametrize("channel", [
    pytest.param("mssante-pro", id="SGL_MSS_16", marks=pytest.mark.req("SGL.MSS.16")),
    pytest.param("mssante-patient", id="SGL_MSS_19", marks=pytest.mark.req("SGL.MSS.19")),
    pytest.param("dmp", id="SGL_DMP_02", marks=pytest.mark.req("SGL.DMP.02")),
])
async def test_changed_refusal_keeps_its_trace(fhir: httpx.AsyncClient, order_people: People, channel: str) -> None:
    placed = await _order(fhir, order_people, (channel,))
    requisition = written(placed, "ServiceRequest")[0]["requisition"]
    [consent] = written(placed, "Consent")

    resp = await fhir.post("ServiceRequest/$refusal", json=_refusal(requisition, channel, False))
    assert resp.status_code == 200, resp.text
    [changed] = written(resp.json(), "Consent")
    assert changed["id"] == consent["id"] and changed["meta"]["versionId"] == "2"
    assert changed["provision"]["type"] == "permit" and changed["policyRule"]["coding"][0]["code"] == "OPTIN"

    history = (await fhir.get(f"Consent/{consent['id']}/_history")).json()["entry"]
    assert [(h["resource"]["meta"]["versionId"], h["resource"]["provision"]["type"]) for h in history] == [
        ("2", "permit"), ("1", "deny")]
    traces = await _traces(fhir, consent["id"])
    assert [(t["target"][0]["reference"].rsplit("/", 1)[1], t["activity"]["coding"][0]["code"]) for t in traces] == [
        ("1", "CREATE"), ("2", "UPDATE")]
    assert all(t["agent"][0]["who"]["identifier"]["value"] == caller_id(fhir) and t["recorded"] for t in traces)
    assert "accepted" in traces[1]["reason"][0]["text"]


@pytest.mark.req("SGL.MSS.16", "SGL.MSS.19", "SGL.DMP.02")
async def test_delivery_sees_the_refused_channels_and_their_change_SGL_MSS_16_SGL_MSS_19_SGL_DMP_02(
        fhir: httpx.AsyncClient, order_people: People, sgl_db: Database) -> None:
    placed = await _order(fhir, order_people, ("mssante-pro", "mssante-patient", "dmp"))
    request = written(placed, "ServiceRequest")[0]
    assert await refused_channels(sgl_db.store, request["id"]) == {"mssante-pro", "mssante-patient", "dmp"}
    resp = await fhir.post("ServiceRequest/$refusal", json=_refusal(request["requisition"], "dmp", False))
    assert resp.status_code == 200
    assert await refused_channels(sgl_db.store, request["id"]) == {"mssante-pro", "mssante-patient"}
    other = written(await _order(fhir, order_people, ()), "ServiceRequest")[0]
    assert await refused_channels(sgl_db.store, other["id"]) == set()


async def test_refusal_recorded_after_the_order_creates_the_consent(fhir: httpx.AsyncClient,
                                                                    order_people: People) -> None:
    placed = await _order(fhir, order_people, ())
    assert written(placed, "Consent") == []
    requisition = written(placed, "ServiceRequest")[0]["requisition"]
    resp = await fhir.post("ServiceRequest/$refusal", json=_refusal(requisition, "dmp", True))
    [consent] = written(resp.json(), "Consent")
    assert consent["provision"]["type"] == "deny" and consent["meta"]["versionId"] == "1"
    again = await fhir.post("ServiceRequest/$refusal", json=_refusal(requisition, "dmp", True))
    assert again.status_code == 200 and again.json()["entry"] == []


async def test_refusal_for_an_unknown_requisition_writes_nothing(fhir: httpx.AsyncClient, sgl_db: Database) -> None:
    before = (await count(sgl_db, "Consent"), await count(sgl_db, "Provenance"))
    resp = await fhir.post("ServiceRequest/$refusal", json=_refusal({"value": "NO-SUCH-DOSSIER"}, "dmp", True))
    assert resp.status_code == 422
    assert resp.json()["issue"][0]["expression"] == ["Parameters.parameter[0].valueIdentifier"]
    resp = await fhir.post("ServiceRequest/$refusal", json=_refusal({"value": "X"}, "dmp", "yes"))  # type: ignore[arg-type]
    assert resp.status_code == 400 and resp.json()["issue"][0]["expression"] == ["Parameters.parameter[2].valueBoolean"]
    assert (await count(sgl_db, "Consent"), await count(sgl_db, "Provenance")) == before
