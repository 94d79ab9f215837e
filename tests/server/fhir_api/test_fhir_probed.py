"""FHIR conventions an outside probe of ``sgl serve`` found broken: conditional delete (promised by the
CapabilityStatement as ``single``, answered 405 over HTTP, and a batch entry deleted the first of several
matches) and ``If-None-Match`` in its strong and ``*`` forms (200 with the whole body instead of 304)."""

from __future__ import annotations

import uuid

import httpx
import pytest

pytestmark = pytest.mark.db
IPP = "urn:oid:1.2.250.1.71.4.2.7"


async def _patient(fhir: httpx.AsyncClient, ipp: str) -> str:
    created = await fhir.post("Patient", json={"resourceType": "Patient", "identifier": [{"system": IPP, "value": ipp}],
                                               "name": [{"family": "Sonde", "given": ["Lea"]}], "gender": "female",
                                               "birthDate": "1981-02-03"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_conditional_delete_is_single_as_the_capability_statement_says(fhir: httpx.AsyncClient) -> None:
    statement = (await fhir.get("metadata")).json()
    [patient_rest] = [r for r in statement["rest"][0]["resource"] if r["type"] == "Patient"]
    assert patient_rest["conditionalDelete"] == "single"
    one, twin = f"CD1-{uuid.uuid4().hex[:8]}", f"CD2-{uuid.uuid4().hex[:8]}"
    only = await _patient(fhir, one)
    first, second = await _patient(fhir, twin), await _patient(fhir, twin)

    several = await fhir.delete("Patient", params={"identifier": f"{IPP}|{twin}"})
    assert several.status_code == 412 and several.json()["resourceType"] == "OperationOutcome", several.text
    batch = await fhir.post("", json={"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "DELETE", "url": f"Patient?identifier={IPP}|{twin}"}}]})
    assert batch.status_code == 200 and batch.json()["entry"][0]["response"]["status"] == "412", batch.text
    assert [(await fhir.get(f"Patient/{p}")).status_code for p in (first, second)] == [200, 200]

    gone = await fhir.delete("Patient", params={"identifier": f"{IPP}|{one}"})
    assert gone.status_code == 204, gone.text
    assert (await fhir.get(f"Patient/{only}")).status_code == 410
    assert (await fhir.delete("Patient", params={"identifier": f"{IPP}|{one}"})).status_code == 204  # none left
    assert (await fhir.delete("Patient")).status_code == 412  # no criteria: never "delete everything"
    trail = await fhir.get("AuditEvent", params={"entity": f"Patient/{only}"})
    assert trail.status_code == 200 and trail.json().get("total", len(trail.json().get("entry", []))) >= 1


async def test_if_none_match_uses_the_weak_comparison(fhir: httpx.AsyncClient) -> None:
    rid = await _patient(fhir, f"INM-{uuid.uuid4().hex[:8]}")
    answers = [await fhir.get(f"Patient/{rid}", headers={"If-None-Match": tag})
               for tag in ('W/"1"', '"1"', "*", 'W/"7", W/"1"', 'W/"2"')]
    assert [a.status_code for a in answers] == [304, 304, 304, 304, 200]
    assert answers[1].headers["ETag"] == 'W/"1"' and answers[1].content == b""


async def test_a_transaction_resolves_conditional_references_or_fails(fhir: httpx.AsyncClient) -> None:
    """Found by probing: ``"subject": {"reference": "Patient?identifier=...|IPP"}`` in a transaction was stored as
    written, an Observation no ``subject=Patient/<id>`` search finds."""
    one, twin, text = f"CR1-{uuid.uuid4().hex[:8]}", f"CR2-{uuid.uuid4().hex[:8]}", f"probe-{uuid.uuid4().hex[:8]}"
    rid = await _patient(fhir, one)
    await _patient(fhir, twin)
    await _patient(fhir, twin)

    def transaction(ipp: str) -> dict[str, object]:
        return {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"request": {"method": "POST", "url": "Observation"},
             "resource": {"resourceType": "Observation", "status": "final", "code": {"text": text},
                          "subject": {"reference": f"Patient?identifier={IPP}|{ipp}"}}}]}

    done = await fhir.post("", json=transaction(one))
    assert done.status_code == 200, done.text
    assert done.json()["entry"][0]["resource"]["subject"] == {"reference": f"Patient/{rid}"}
    found = await fhir.get("Observation", params={"subject": f"Patient/{rid}"})
    assert [e["resource"]["code"]["text"] for e in found.json()["entry"]] == [text]
    for ipp, why in ((twin, "several"), ("CR-NOBODY", "no")):
        failed = await fhir.post("", json=transaction(ipp))
        assert failed.status_code == 412 and f"matches {why} Patient" in failed.text, failed.text
        assert failed.json()["issue"][0]["expression"][0] == "Bundle.entry[0]"
    assert (await fhir.get("Observation", params={"subject": f"Patient/{rid}"})).json()["total"] == 1


async def test_history_honours_since_and_refuses_what_it_does_not_do(fhir: httpx.AsyncClient) -> None:
    """Found by probing: ``_history?_since=2099-01-01T00:00:00Z`` answered every version, ``_at`` and typos alike."""
    rid = await _patient(fhir, f"HS-{uuid.uuid4().hex[:8]}")
    first = (await fhir.get(f"Patient/{rid}")).json()
    changed = await fhir.put(f"Patient/{rid}", json={**first, "gender": "other"})
    assert changed.status_code == 200, changed.text
    second_at = changed.json()["meta"]["lastUpdated"]
    history = f"Patient/{rid}/_history"
    assert len((await fhir.get(history)).json()["entry"]) == 2
    since_second = await fhir.get(history, params={"_since": second_at})
    assert [e["response"]["etag"] for e in since_second.json()["entry"]] == ['W/"2"']
    future = await fhir.get(history, params={"_since": "2099-01-01T00:00:00Z"})
    assert future.status_code == 200 and "entry" not in future.json()
    typed = await fhir.get("Patient/_history", params={"_since": second_at, "_count": "1"})
    assert typed.status_code == 200 and len(typed.json()["entry"]) == 1
    for params, where in (({"_at": "2026"}, "_at"), ({"_since": "2026-12-05"}, "_since"), ({"_sinse": "x"}, "_sinse")):
        refused = await fhir.get(history, params=params)
        assert refused.status_code == 400 and refused.json()["issue"][0]["expression"] == [where], refused.text


async def test_a_client_asking_for_xml_only_gets_406(fhir: httpx.AsyncClient) -> None:
    """Found by probing: ``Accept: application/fhir+xml`` and ``_format=xml`` were answered 200 in JSON."""
    for headers, params in (({"Accept": "application/fhir+xml"}, {}), ({"Accept": "application/xml;q=0.9"}, {}),
                            ({}, {"_format": "xml"}), ({}, {"_format": "application/fhir+xml"})):
        refused = await fhir.get("Patient", headers=headers, params={**params, "_count": "1"})
        assert refused.status_code == 406 and refused.json()["resourceType"] == "OperationOutcome", refused.text
    assert (await fhir.get("metadata", headers={"Accept": "application/fhir+xml"})).status_code == 406
    for accept in ("application/fhir+json", "application/json", "*/*", "application/fhir+xml, application/fhir+json"):
        assert (await fhir.get("Patient", headers={"Accept": accept}, params={"_count": "1"})).status_code == 200
    assert (await fhir.get("Patient", params={"_count": "1", "_format": "json"})).status_code == 200


async def test_a_client_accepting_html_only_gets_406_and_format_overrides_accept(fhir: httpx.AsyncClient) -> None:
    """Session 7's probe: ``Accept: text/html`` (no JSON type, no ``*/*``) was answered 200 in JSON. A browser's
    usual Accept carries ``*/*;q=0.8`` and gets JSON; ``_format`` overrides Accept (FHIR R4 http.html)."""
    for headers, params in (({"Accept": "text/html"}, {}), ({"Accept": "text/html, application/xhtml+xml"}, {}),
                            ({"Accept": "application/fhir+json;q=0"}, {}), ({}, {"_format": "html"}),
                            ({"Accept": "application/fhir+json"}, {"_format": "xml"})):
        refused = await fhir.get("Patient", headers=headers, params={**params, "_count": "1"})
        assert refused.status_code == 406 and refused.json()["resourceType"] == "OperationOutcome", (headers, params)
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
    for headers, params in (({"Accept": browser}, {}), ({"Accept": "text/html"}, {"_format": "json"}),
                            ({"Accept": "application/fhir+xml"}, {"_format": "application/fhir+json"}),
                            ({"Accept": "application/*"}, {}),
                            ({"Accept": "text/html"}, {"_format": "application/fhir+json; fhirVersion=4.0"})):
        served = await fhir.get("Patient", headers=headers, params={**params, "_count": "1"})
        assert served.status_code == 200 and served.json()["resourceType"] == "Bundle", (headers, params)
