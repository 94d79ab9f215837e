"""Search over real HTTP: each parameter type, modifiers, chains, includes, sorting and paging."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.db
FHIR = {"Content-Type": "application/fhir+json"}
LOINC = "http://loinc.org"


async def _post(fhir: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    r = await fhir.post(body["resourceType"], json=body, headers=FHIR)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _ids(fhir: httpx.AsyncClient, rtype: str, **params: str) -> list[str]:
    r = await fhir.get(rtype, params=params)
    assert r.status_code == 200, r.text
    return [e["resource"]["id"] for e in r.json().get("entry", []) if e["search"]["mode"] == "match"]


@pytest.fixture(scope="module")
async def dossier(fhir: httpx.AsyncClient) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    pat = await _post(fhir, {"resourceType": "Patient", "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.7",
                                                                        "value": f"IPP-{tag}"}],
                             "name": [{"use": "official", "family": f"Lefèvre-D'Aubigné{tag}", "given": ["Éloïse"]}],
                             "gender": "female", "birthDate": "1982-07-14"})
    other = await _post(fhir, {"resourceType": "Patient", "name": [{"family": f"Autre{tag}"}], "gender": "male",
                               "birthDate": "1990"})
    spec = await _post(fhir, {"resourceType": "Specimen", "accessionIdentifier": {"system": "urn:sgl:acc",
                                                                                   "value": f"ACC{tag}"},
                              "subject": {"reference": f"Patient/{pat['id']}"}, "status": "available",
                              "collection": {"collectedDateTime": "2024-05-02T08:15:00+02:00"}})
    obs = []
    for i, (code, value, day) in enumerate([("2345-7", 5.4, "01"), ("2345-7", 7.9, "02"), ("2160-0", 81.0, "03"),
                                            ("2345-7", 11.2, "04")]):
        obs.append(await _post(fhir, {
            "resourceType": "Observation", "status": "final" if i < 3 else "preliminary",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "laboratory"}]}],
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "subject": {"reference": f"Patient/{pat['id']}"},
            "specimen": {"reference": f"Specimen/{spec['id']}"},
            "effectiveDateTime": f"2024-05-{day}T09:00:00+02:00",
            "valueQuantity": {"value": value, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                              "code": "mmol/L"}}))
    return {"tag": tag, "patient": pat, "other": other, "specimen": spec, "obs": obs}


async def test_string_search_ignores_case_and_accents_and_matches_word_prefixes(fhir, dossier) -> None:
    tag, pid = dossier["tag"], dossier["patient"]["id"]
    assert await _ids(fhir, "Patient", family=f"lefevre-d'aubigne{tag}") == [pid]
    assert await _ids(fhir, "Patient", family="LEFEV") != []
    assert pid in await _ids(fhir, "Patient", name="eloise")
    assert pid in await _ids(fhir, "Patient", family=f"aubigne{tag}")
    assert await _ids(fhir, "Patient", **{"family:exact": f"Lefèvre-D'Aubigné{tag}"}) == [pid]
    assert await _ids(fhir, "Patient", **{"family:exact": f"lefevre-d'aubigne{tag}"}) == []
    assert await _ids(fhir, "Patient", **{"family:contains": f"aubigné{tag}"}) == [pid]


async def test_token_search_forms(fhir, dossier) -> None:
    tag, pid = dossier["tag"], dossier["patient"]["id"]
    assert await _ids(fhir, "Patient", identifier=f"urn:oid:1.2.250.1.71.4.2.7|IPP-{tag}") == [pid]
    assert await _ids(fhir, "Patient", identifier=f"IPP-{tag}") == [pid]
    assert await _ids(fhir, "Patient", identifier=f"urn:oid:9.9|IPP-{tag}") == []
    ref = f"Patient/{pid}"
    assert len(await _ids(fhir, "Observation", subject=ref, code=f"{LOINC}|2345-7")) == 3
    assert len(await _ids(fhir, "Observation", subject=ref, code="2160-0")) == 1
    assert len(await _ids(fhir, "Observation", subject=ref, code=f"{LOINC}|")) == 4
    assert len(await _ids(fhir, "Observation", subject=ref, **{"status:not": "final"})) == 1
    assert len(await _ids(fhir, "Observation", subject=ref, code="2345-7,2160-0")) == 4
    assert len(await _ids(fhir, "Observation", subject=ref, category="laboratory")) == 4


async def test_missing_modifier(fhir, dossier) -> None:
    tag = dossier["tag"]
    assert await _ids(fhir, "Patient", family=f"autre{tag}", **{"identifier:missing": "true"}) == [
        dossier["other"]["id"]]
    assert await _ids(fhir, "Patient", family=f"autre{tag}", **{"identifier:missing": "false"}) == []


async def test_date_prefixes_and_partial_dates(fhir, dossier) -> None:
    tag, pid, oid = dossier["tag"], dossier["patient"]["id"], dossier["other"]["id"]
    fam = {"family": f"lefevre-d'aubigne{tag},autre{tag}"}
    assert await _ids(fhir, "Patient", birthdate="1982-07", **fam) == [pid]
    assert await _ids(fhir, "Patient", birthdate="1982", **fam) == [pid]
    assert set(await _ids(fhir, "Patient", birthdate="gt1982-07-14", **fam)) == {oid}
    assert set(await _ids(fhir, "Patient", birthdate="ge1982-07-14", **fam)) == {pid, oid}
    assert set(await _ids(fhir, "Patient", birthdate="lt1990-06", **fam)) == {pid, oid}
    assert set(await _ids(fhir, "Patient", birthdate="le1982-07-14", **fam)) == {pid}
    assert set(await _ids(fhir, "Patient", birthdate="sa1982-12-31", **fam)) == {oid}
    assert set(await _ids(fhir, "Patient", birthdate="eb1990-01-01", **fam)) == {pid}
    assert set(await _ids(fhir, "Patient", birthdate="ne1982-07-14", **fam)) == {oid}
    ref = f"Patient/{pid}"
    assert len(await _ids(fhir, "Observation", subject=ref, date="2024-05-02")) == 1
    assert len(await _ids(fhir, "Observation", subject=ref, date="ge2024-05-02T07:00:00Z")) == 3
    assert len(await _ids(fhir, "Specimen", subject=ref, collected="2024-05-02T06:15:00Z")) == 1


async def test_quantity_and_composite(fhir, dossier) -> None:
    ref = f"Patient/{dossier['patient']['id']}"
    assert len(await _ids(fhir, "Observation", subject=ref, **{"value-quantity": "5.4"})) == 1
    assert len(await _ids(fhir, "Observation", subject=ref, **{"value-quantity": "gt7"})) == 3
    assert len(await _ids(fhir, "Observation", subject=ref,
                          **{"value-quantity": "lt10|http://unitsofmeasure.org|mmol/L"})) == 2
    assert len(await _ids(fhir, "Observation", subject=ref, **{"value-quantity": "lt10||mg/dL"})) == 0
    assert len(await _ids(fhir, "Observation", subject=ref, **{"code-value-quantity": f"{LOINC}|2345-7$gt7"})) == 2
    assert len(await _ids(fhir, "Observation", subject=ref, **{"code-value-quantity": "2160-0$gt7"})) == 1


async def test_reference_forms_and_chain(fhir, dossier) -> None:
    tag, pid = dossier["tag"], dossier["patient"]["id"]
    assert len(await _ids(fhir, "Observation", patient=pid)) == 4
    assert len(await _ids(fhir, "Observation", subject=f"Patient/{pid}")) == 4
    assert len(await _ids(fhir, "Observation", **{"subject:Patient": pid})) == 4
    chained = await _ids(fhir, "Observation", **{"subject:Patient.identifier": f"urn:oid:1.2.250.1.71.4.2.7|IPP-{tag}"})
    assert len(chained) == 4
    assert len(await _ids(fhir, "Observation", **{"patient.identifier": f"IPP-{tag}"})) == 4
    assert await _ids(fhir, "Observation", **{"subject:Patient.identifier": "nobody"}) == []
    assert len(await _ids(fhir, "Observation", specimen=f"Specimen/{dossier['specimen']['id']}")) == 4
    spec = await _ids(fhir, "Specimen", accession=f"urn:sgl:acc|ACC{tag}")
    assert spec == [dossier["specimen"]["id"]]


async def test_include_and_revinclude(fhir, dossier) -> None:
    pid = dossier["patient"]["id"]
    bundle = (await fhir.get("Observation", params={"patient": pid, "_include": "Observation:subject"})).json()
    included = [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert included == [pid]
    rev = (await fhir.get("Patient", params={"_id": pid, "_revinclude": "Observation:subject"})).json()
    modes = [e["search"]["mode"] for e in rev["entry"]]
    assert modes.count("match") == 1 and modes.count("include") == 4


async def test_sort_by_date_descending_and_summary_count(fhir, dossier) -> None:
    ref = f"Patient/{dossier['patient']['id']}"
    ids = await _ids(fhir, "Observation", subject=ref, _sort="-date")
    assert ids == [o["id"] for o in reversed(dossier["obs"])]
    counted = (await fhir.get("Observation", params={"subject": ref, "_summary": "count"})).json()
    assert counted["total"] == 4 and "entry" not in counted


async def test_paging_25_results_10_at_a_time_without_gaps_or_duplicates(fhir: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:8]
    created = set()
    for i in range(25):
        created.add((await _post(fhir, {"resourceType": "Device", "identifier": [{"system": f"urn:page:{tag}",
                                                                                  "value": str(i)}]}))["id"])
    url: str | None = f"Device?identifier=urn:page:{tag}|&_count=10"
    seen: list[str] = []
    pages = 0
    while url and pages < 10:
        bundle = (await fhir.get(url)).json()
        pages += 1
        seen += [e["resource"]["id"] for e in bundle.get("entry", [])]
        nxt = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        url = nxt[0] if nxt else None
    assert pages == 3
    assert len(seen) == 25 and set(seen) == created


async def test_paging_sorted_by_date_with_total_accurate(fhir: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:8]
    pat = await _post(fhir, {"resourceType": "Patient", "name": [{"family": f"Page{tag}"}]})
    for i in range(12):
        await _post(fhir, {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                           "subject": {"reference": f"Patient/{pat['id']}"},
                           "effectiveDateTime": f"2024-01-{(i % 6) + 1:02d}"})
    url: str | None = f"Observation?subject=Patient/{pat['id']}&_sort=-date&_count=5&_total=accurate"
    dates: list[str] = []
    while url:
        bundle = (await fhir.get(url)).json()
        assert bundle["total"] == 12
        dates += [e["resource"]["effectiveDateTime"] for e in bundle["entry"]]
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    assert len(dates) == 12 and dates == sorted(dates, reverse=True)


async def test_unknown_parameter_strict_is_400_lenient_is_warned(fhir: httpx.AsyncClient) -> None:
    strict = await fhir.get("Patient", params={"shoe-size": "42"}, headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400 and strict.json()["issue"][0]["code"] == "not-supported"
    lenient = (await fhir.get("Patient", params={"shoe-size": "42", "_count": "1"})).json()
    outcomes = [e for e in lenient.get("entry", []) if e["search"]["mode"] == "outcome"]
    assert "shoe-size" in outcomes[0]["resource"]["issue"][0]["diagnostics"]


async def test_bad_search_values_are_400(fhir: httpx.AsyncClient) -> None:
    for params in ({"birthdate": "14/07/1982"}, {"_count": "many"}, {"_sort": "shoe"},
                   {"_include": "Patient:nothing"}, {"_cursor": "garbage!"}):
        r = await fhir.get("Patient", params=params)
        assert r.status_code == 400, params
        assert r.json()["resourceType"] == "OperationOutcome"


async def test_lastupdated_and_id(fhir: httpx.AsyncClient, dossier) -> None:
    pid = dossier["patient"]["id"]
    assert await _ids(fhir, "Patient", _id=pid, _lastUpdated="gt2000-01-01") == [pid]
    assert await _ids(fhir, "Patient", _id=pid, _lastUpdated="lt2000-01-01") == []


async def test_post_search_form(fhir: httpx.AsyncClient, dossier) -> None:
    pid = dossier["patient"]["id"]
    r = await fhir.post("Patient/_search", data={"_id": pid})
    assert [e["resource"]["id"] for e in r.json()["entry"]] == [pid]


async def test_comma_alternatives_of_prefixes_do_not_match_across_two_values(fhir, dossier) -> None:
    """"aubigne…" < "autre…" <= "lefevre": one range met by two different words is not a match."""
    tag = dossier["tag"]
    assert await _ids(fhir, "Patient", family=f"autre{tag},nobody{tag}") == [dossier["other"]["id"]]


async def test_the_approximately_prefix_is_refused_by_name(fhir: httpx.AsyncClient) -> None:
    """Found by probing: ``date=ap2026-12-05`` was refused as "'ap2026-12-05' is not a FHIR date or dateTime" and
    ``value-quantity=ap5`` as "'ap5' is not a number", as if the client had mistyped the value."""
    for rtype, name, value in (("Observation", "date", "ap2026-12-05"), ("Observation", "value-quantity", "ap5.2"),
                               ("Patient", "_lastUpdated", "ap2026-12")):
        refused = await fhir.get(rtype, params={name: value})
        assert refused.status_code == 400, refused.text
        issue = refused.json()["issue"][0]
        assert "prefix ap" in issue["diagnostics"] and issue["expression"] == [name], issue


async def test_an_empty_parameter_is_ignored_whatever_its_type(fhir: httpx.AsyncClient, dossier) -> None:
    """FHIR R4 search (Handling Errors): an empty parameter is not an error, the server ignores it. Session 7's
    probe found ``_id=`` answered an empty Bundle and ``date=`` a 400; a batch's GET entries dropped them."""
    ref = f"Patient/{dossier['patient']['id']}"
    every = set(await _ids(fhir, "Observation", subject=ref))
    assert len(every) == 4
    for empty in ("_id", "date", "code", "value-quantity", "_lastUpdated", "specimen", "status", "_sort", "_count"):
        answer = await fhir.get("Observation", params={"subject": ref, empty: ""})
        assert answer.status_code == 200, (empty, answer.text)
        assert {e["resource"]["id"] for e in answer.json()["entry"]} == every, empty
        assert f"{empty}=" not in answer.json()["link"][0]["url"], empty  # the self link says what was used
    assert await _ids(fhir, "Patient", family="", birthdate="1982-07-14",
                      identifier=f"urn:oid:1.2.250.1.71.4.2.7|IPP-{dossier['tag']}") == [dossier["patient"]["id"]]
    form = await fhir.post("Observation/_search", data={"subject": ref, "date": ""})
    assert {e["resource"]["id"] for e in form.json()["entry"]} == every
