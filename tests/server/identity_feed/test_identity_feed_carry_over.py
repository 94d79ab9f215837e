"""One merge path: an ADT^A40 from the GAM and a ``POST Patient/$merge`` carry the duplicate's data over to the
kept identity the same way (new versions of the stay, order, result and task, every reference re-pointed with its
display and identifier rebuilt, contained ones included; history keeping the old subject; an AuditEvent listing
them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from resources.search import links
from tests.support.access import role_client
from tests.support.adt_feed import IPP_SYSTEM, exchange, msa, new_ipp, patients
from tests.support.pam_samples import adt, pid
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
async def bio(feed_server: SglProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with role_client(feed_server.base, feed_server.data_dir, "biologiste") as client:
        yield client


async def _fed_pair(feed_server: SglProcess, http: httpx.AsyncClient, tag: str) -> tuple[str, str, str, str]:
    kept_ipp, dup_ipp = new_ipp(), new_ipp()
    acks = await exchange(feed_server.mllp_port, adt("A28", f"{tag}-1", pid(kept_ipp, ins=None, pid32="PROV")),
                          adt("A28", f"{tag}-2", pid(dup_ipp, ins=None, pid32="PROV")))
    assert [msa(a)[0] for a in acks] == ["AA", "AA"]
    [kept], [dup] = await patients(http, kept_ipp), await patients(http, dup_ipp)
    return kept["id"], dup["id"], kept_ipp, dup_ipp


FR_CORE_ENCOUNTER = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-encounter"


def _encounter(patient: str, ipp: str) -> dict[str, Any]:
    """A stay as a hospital's DPI or GAM writes it in FR Core: NDA, class, period, subject with display and IPP."""
    return {"resourceType": "Encounter", "meta": {"profile": [FR_CORE_ENCOUNTER]},
            "identifier": [{"use": "official", "type": {"coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "VN"}]},
                "system": "urn:oid:1.2.250.1.71.4.2.2.000897406", "value": f"NDA-{ipp}"}],
            "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP",
                      "display": "inpatient encounter"},
            "subject": {"reference": f"Patient/{patient}", "display": "DOUBLON Dominique",
                        "identifier": {"system": IPP_SYSTEM, "value": ipp}},
            "period": {"start": "2026-10-01T08:00:00+02:00"},
            "serviceProvider": {"display": "CHU-X, service de médecine"}}


async def _data_of(bio: httpx.AsyncClient, patient: str, ipp: str) -> list[str]:
    """A stay, an order with a contained specimen, its result (with a ``focus``) and a task, each pointing at
    ``patient`` the way hospital systems and the lab's own writers do."""
    ref = {"reference": f"Patient/{patient}", "display": "DOUBLON Dominique"}
    stay = await bio.post("Encounter", json=_encounter(patient, ipp))
    order = await bio.post("ServiceRequest", json={
        "resourceType": "ServiceRequest", "status": "active", "intent": "order", "code": {"text": "bilan"},
        "contained": [{"resourceType": "Specimen", "id": "tube", "subject": {"reference": f"Patient/{patient}"}}],
        "specimen": [{"reference": "#tube"}], "subject": ref,
        "encounter": {"reference": f"Encounter/{stay.json().get('id')}"}})
    result = await bio.post("Observation", json={
        "resourceType": "Observation", "status": "final", "subject": {"reference": f"Patient/{patient}"},
        "focus": [ref], "basedOn": [{"reference": f"ServiceRequest/{order.json().get('id')}"}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "2160-0"}]}, "effectiveDateTime": "2026-10-01",
        "valueQuantity": {"value": 80, "unit": "µmol/L", "system": "http://unitsofmeasure.org", "code": "umol/L"}})
    task = await bio.post("Task", json={"resourceType": "Task", "status": "requested", "intent": "order",
                                        "for": {"reference": f"Patient/{patient}"}})
    made = (stay, order, result, task)
    assert [a.status_code for a in made] == [201] * 4, [a.text for a in made]
    return [f"{r.json()['resourceType']}/{r.json()['id']}" for r in made]


def _patient_refs(node: Any, names: dict[str, str]) -> list[tuple[str, ...]]:
    """Every Patient reference under ``node`` as (who, display, identifier system) with the ids named."""
    return [(names.get(n["reference"], n["reference"]), n.get("display", ""), (n.get("identifier") or {}).get(
        "system", "")) for n in links.reference_nodes(node) if links.patient_id(n["reference"])]


async def _state(bio: httpx.AsyncClient, kept: str, dup: str, refs: list[str]) -> dict[str, Any]:
    """What a merge left, with the ids taken out so that two merges can be compared."""
    names = {f"Patient/{kept}": "KEPT", f"Patient/{dup}": "DUP"}
    out: dict[str, Any] = {}
    for ref in refs:
        now = (await bio.get(ref)).json()
        first = (await bio.get(f"{ref}/_history/1")).json()
        out[ref.split("/")[0]] = (now["meta"]["versionId"], _patient_refs(now, names), _patient_refs(first, names))
    for ptype, param in (("Observation", "subject"), ("ServiceRequest", "subject"), ("Encounter", "patient"),
                         ("Task", "patient")):
        on_dup = (await bio.get(ptype, params={param: f"Patient/{dup}"})).json()
        out[f"{ptype} left on DUP"] = len(on_dup.get("entry", ()))
        on_kept = (await bio.get(ptype, params={param: f"Patient/{kept}"})).json()
        out[f"{ptype} on KEPT"] = len(on_kept.get("entry", ()))
    kept_p, dup_p = (await bio.get(f"Patient/{kept}")).json(), (await bio.get(f"Patient/{dup}")).json()
    out["links"] = ([(x["type"], names[x["other"]["reference"]]) for x in kept_p["link"]],
                    [(x["type"], names[x["other"]["reference"]]) for x in dup_p["link"]], dup_p["active"])
    events = (await bio.get("AuditEvent", params={"entity": f"Patient/{dup}"})).json().get("entry", ())
    listed = [{e["what"]["reference"].rsplit("/_history/")[0] for e in ev["resource"]["entity"] if "what" in e}
              for ev in events if "->" in str(ev["resource"]["entity"])]
    out["audited"] = [sorted(names.get(r, r.split("/")[0]) for r in found) for found in listed]
    return out


async def test_a40_and_patient_merge_carry_the_data_over_alike(feed_server: SglProcess, feed_http: httpx.AsyncClient,
                                                             bio: httpx.AsyncClient) -> None:
    kept_a, dup_a, kept_ipp, dup_ipp = await _fed_pair(feed_server, feed_http, "CO-A")
    refs_a = await _data_of(bio, dup_a, dup_ipp)
    [ack] = await exchange(feed_server.mllp_port, adt("A40", "CO-A-3", pid(kept_ipp, ins=None, pid32="PROV"),
                                                      f"MRG|{dup_ipp}^^^CHU-X&000897406&N^PI"))
    assert msa(ack) == ("AA", "CO-A-3")
    kept_b, dup_b, _, dup_ipp_b = await _fed_pair(feed_server, feed_http, "CO-B")
    refs_b = await _data_of(bio, dup_b, dup_ipp_b)
    answer = await bio.post("Patient/$merge", json={"resourceType": "Parameters", "parameter": [
        {"name": "source-patient", "valueReference": {"reference": f"Patient/{dup_b}"}},
        {"name": "target-patient", "valueReference": {"reference": f"Patient/{kept_b}"}}]})
    assert answer.status_code == 200, answer.text
    by_feed, by_api = await _state(bio, kept_a, dup_a, refs_a), await _state(bio, kept_b, dup_b, refs_b)
    assert by_feed == by_api
    kept = (await feed_http.get(f"Patient/{kept_a}")).json()
    shown = f"{kept['name'][0]['family']} {kept['name'][0]['given'][0]}, né(e) le 28/03/1979, sexe féminin"
    # the FR Core stay: re-pointed, its display and IPP rebuilt from the kept identity (not dropped)
    assert by_feed["Encounter"] == ("2", [("KEPT", shown, IPP_SYSTEM)], [("DUP", "DOUBLON Dominique", IPP_SYSTEM)])
    # the contained specimen's subject too, beside the order's own subject
    assert by_feed["ServiceRequest"][1] == [("KEPT", "", ""), ("KEPT", shown, "")]
    assert by_feed["Observation"][1] == [("KEPT", "", ""), ("KEPT", shown, "")]  # subject and focus
    assert by_feed["Task"] == ("2", [("KEPT", "", "")], [("DUP", "", "")])
    assert all(by_feed[f"{t} left on DUP"] == 0 and by_feed[f"{t} on KEPT"] == 1
               for t in ("Observation", "ServiceRequest", "Encounter", "Task"))  # Task?patient= is indexed now
    assert by_feed["links"] == ([("replaces", "DUP")], [("replaced-by", "KEPT")], False)
    assert by_feed["audited"] == [["DUP", "Encounter", "KEPT", "Observation", "ServiceRequest", "Task"]]
