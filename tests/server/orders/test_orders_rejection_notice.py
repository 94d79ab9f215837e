"""A refused tube is notified to its requester (issue 15, item 10): the reception's ``PUT Specimen`` with status
``unsatisfactory`` and an HL7 table 0490 reason writes, in the same transaction, one ``Communication`` to the
``ServiceRequest.requester``; once only (a later edit of the refused tube adds none); a refused write (stale
If-Match) leaves no notice behind. On the session ``sgl_server``, through the public API, by a secretary."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.access import ActAs
from tests.support.orders_lab import People, order_parameters, written

REASON = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0490", "code": "RH",
                      "display": "Échantillon hémolysé"}], "text": "Échantillon hémolysé"}


@pytest.fixture(scope="module")
async def desk(act_as: ActAs) -> httpx.AsyncClient:
    return await act_as("secretaire")


@pytest.fixture(scope="module")
async def specimens(fhir: httpx.AsyncClient, order_people: People) -> list[dict[str, Any]]:
    resp = await fhir.post("ServiceRequest/$order", json=order_parameters(order_people, ["GLY", "NFS"]))
    assert resp.status_code == 201, resp.text
    found = written(resp.json(), "Specimen")
    assert len(found) == 2  # a grey and a purple tube
    return found


async def _refuse(desk: httpx.AsyncClient, specimen_id: str, *, version: str | None = None) -> httpx.Response:
    current = (await desk.get(f"Specimen/{specimen_id}")).json()
    body = {**current, "status": "unsatisfactory", "condition": [REASON],
            "note": [{"authorString": "Sophie ACCUEIL", "text": "Non-conformité : Échantillon hémolysé"}]}
    return await desk.put(f"Specimen/{specimen_id}", json=body,
                          headers={"If-Match": f'W/"{version or current["meta"]["versionId"]}"'})


async def _notices(desk: httpx.AsyncClient, specimen_id: str) -> list[dict[str, Any]]:
    answer = await desk.get("Communication", params={"about": f"Specimen/{specimen_id}"})
    assert answer.status_code == 200, answer.text
    return [e["resource"] for e in answer.json().get("entry", []) if e.get("search", {}).get("mode") == "match"]


async def test_a_refused_tube_is_notified_once_to_its_requester(desk: httpx.AsyncClient, order_people: People,
                                                                 specimens: list[dict[str, Any]]) -> None:
    tube = specimens[0]
    answer = await _refuse(desk, tube["id"])
    assert answer.status_code == 200, answer.text
    [notice] = await _notices(desk, tube["id"])
    assert notice["recipient"] == [{"reference": order_people.requester}]
    assert notice["category"][0]["coding"][0]["code"] == "specimen-rejection"
    assert notice["subject"]["reference"] == order_people.patient
    assert notice["reasonCode"] == [REASON]
    assert {b["reference"] for b in notice["basedOn"]} == {r["reference"] for r in tube["request"]}
    accession = tube["accessionIdentifier"]["value"]
    assert accession in notice["payload"][0]["contentString"] and "hémolysé" in notice["payload"][0]["contentString"]

    again = (await desk.get(f"Specimen/{tube['id']}")).json()
    again["note"].append({"authorString": "Sophie ACCUEIL", "text": "Prescripteur joint par téléphone"})
    edited = await desk.put(f"Specimen/{tube['id']}", json=again,
                            headers={"If-Match": f'W/"{again["meta"]["versionId"]}"'})
    assert edited.status_code == 200, edited.text
    assert len(await _notices(desk, tube["id"])) == 1  # once only


async def test_a_refusal_on_a_stale_version_is_refused_and_notifies_nobody(
        desk: httpx.AsyncClient, specimens: list[dict[str, Any]]) -> None:
    tube = specimens[1]
    moved = (await desk.get(f"Specimen/{tube['id']}")).json()
    moved["note"] = [{"text": "reçu"}]
    assert (await desk.put(f"Specimen/{tube['id']}", json=moved)).status_code == 200
    stale = await _refuse(desk, tube["id"], version=moved["meta"]["versionId"])
    assert stale.status_code == 412, stale.text
    assert stale.json()["resourceType"] == "OperationOutcome"
    assert await _notices(desk, tube["id"]) == []
    assert (await desk.get(f"Specimen/{tube['id']}")).json()["status"] != "unsatisfactory"
