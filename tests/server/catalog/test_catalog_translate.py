"""``ConceptMap/$translate`` (server/catalog/translate.py): local code <-> LOINC, as FHIR R4 defines it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.db

LOCAL = "https://opensgl.org/fhir/CodeSystem/catalogue"


def _matches(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    return [{p["name"]: p.get("valueCoding", p.get("valueCode", p.get("valueUri"))) for p in m["part"]}
            for m in parameters["parameter"] if m["name"] == "match"]


async def test_local_code_translates_to_its_loinc_code(fhir: httpx.AsyncClient) -> None:
    response = await fhir.get("ConceptMap/$translate", params={"system": LOCAL, "code": "GLU",
                                                               "target": "http://loinc.org"})
    assert response.status_code == 200
    body = response.json()
    assert body["resourceType"] == "Parameters" and body["parameter"][0] == {"name": "result", "valueBoolean": True}
    [match] = _matches(body)
    assert match["equivalence"] == "equivalent" and match["concept"]["system"] == "http://loinc.org"
    assert match["concept"]["code"] == "2345-7"
    assert match["source"] == "https://opensgl.org/fhir/ConceptMap/catalogue-loinc"


async def test_reverse_gives_the_catalogue_elements_carrying_a_loinc_code(fhir: httpx.AsyncClient) -> None:
    response = await fhir.post("ConceptMap/$translate", json={"resourceType": "Parameters", "parameter": [
        {"name": "coding", "valueCoding": {"system": "http://loinc.org", "code": "2345-7"}},
        {"name": "reverse", "valueBoolean": True}]})
    assert response.status_code == 200, response.text
    concepts = [m["concept"] for m in _matches(response.json())]
    assert {"system": LOCAL, "code": "GLU", "display": "Glucose"} in concepts


async def test_no_mapping_is_result_false_with_a_message(fhir: httpx.AsyncClient) -> None:
    unknown = (await fhir.get("ConceptMap/$translate", params={"system": LOCAL, "code": "NOPE"})).json()
    assert unknown["parameter"][0]["valueBoolean"] is False and "NOPE" in unknown["parameter"][1]["valueString"]
    elsewhere = (await fhir.get("ConceptMap/$translate", params={"system": LOCAL, "code": "GLU",
                                                                 "targetsystem": "http://snomed.info/sct"})).json()
    assert elsewhere["parameter"][0]["valueBoolean"] is False and not _matches(elsewhere)


async def test_bad_translate_requests_are_400_or_404(fhir: httpx.AsyncClient) -> None:
    no_code = await fhir.get("ConceptMap/$translate", params={"system": LOCAL})
    assert no_code.status_code == 400 and no_code.json()["issue"][0]["expression"] == ["code"]
    bad_reverse = await fhir.get("ConceptMap/$translate", params={"code": "GLU", "reverse": "maybe"})
    assert bad_reverse.status_code == 400 and bad_reverse.json()["issue"][0]["expression"] == ["reverse"]
    other_map = await fhir.get("ConceptMap/$translate", params={"code": "GLU", "url": "http://example.org/cm"})
    assert other_map.status_code == 404
    not_parameters = await fhir.post("ConceptMap/$translate", json={"resourceType": "Patient"})
    assert not_parameters.status_code == 400
