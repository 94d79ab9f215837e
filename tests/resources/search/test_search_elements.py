"""``_elements`` on search over real HTTP (issue 15: the workbench names its analyses from the catalogue's codes
only): the matches are cut down to the asked and the mandatory elements and tagged SUBSETTED, the stored resource
is untouched, included resources come whole."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from resources.search.elements import SUBSETTED
from server.database import Database

pytestmark = pytest.mark.db

LOINC = "http://loinc.org"


def _tags(resource: dict[str, Any]) -> list[tuple[str, str]]:
    return [(t.get("system", ""), t.get("code", "")) for t in resource.get("meta", {}).get("tag", [])]


def _subsetted(resource: dict[str, Any]) -> bool:
    return (SUBSETTED["system"], "SUBSETTED") in _tags(resource)


async def test_catalogue_codes_only_are_a_subset_tagged_and_the_stored_definition_is_whole(
        fhir: httpx.AsyncClient) -> None:
    answer = await fhir.get("ObservationDefinition", params={"_count": "500", "_elements": "code"})
    assert answer.status_code == 200, answer.text
    whole = await fhir.get("ObservationDefinition", params={"_count": "500"})
    assert len(answer.content) < len(whole.content) / 2  # what the workbench saves at login
    definitions = [e["resource"] for e in answer.json()["entry"]]
    assert definitions and len(definitions) == len(whole.json()["entry"])
    for definition in definitions:
        assert set(definition) == {"resourceType", "id", "meta", "code"}, definition
        assert _subsetted(definition) and definition["meta"]["versionId"]
    stored = (await fhir.get(f"ObservationDefinition/{definitions[0]['id']}")).json()
    assert set(stored) > set(definitions[0]) and not _subsetted(stored)
    assert stored["code"] == definitions[0]["code"]
    # the self link keeps the parameter, so the next page is cut the same way
    assert "_elements=code" in answer.json()["link"][0]["url"]


async def test_mandatory_and_choice_elements_are_kept_and_includes_come_whole(
        fhir: httpx.AsyncClient, sgl_db: Database) -> None:
    patient = await sgl_db.store.create({"resourceType": "Patient", "name": [{"family": "ÉLÉMENTS", "given": ["Anne"]}],
                                         "birthDate": "1970-02-03", "gender": "female"})
    observation = await sgl_db.store.create({
        "resourceType": "Observation", "status": "preliminary", "subject": {"reference": f"Patient/{patient.id}"},
        "code": {"coding": [{"system": LOINC, "code": "2160-0", "display": "Créatinine"}]},
        "effectiveDateTime": "2026-12-05T07:30:00+01:00", "note": [{"text": "hémolysé"}],
        "valueQuantity": {"value": 71, "unit": "µmol/L", "system": "http://unitsofmeasure.org", "code": "umol/L"}})
    query = {"subject": f"Patient/{patient.id}", "_include": "Observation:subject"}

    answer = (await fhir.get("Observation", params={**query, "_elements": "value,effective,nosuchelement"})).json()
    matches = [e["resource"] for e in answer["entry"] if e["search"]["mode"] == "match"]
    included = [e["resource"] for e in answer["entry"] if e["search"]["mode"] == "include"]
    assert [m["id"] for m in matches] == [observation.id]
    # status and code are mandatory in R4: kept although not asked; the unknown name selects nothing
    assert set(matches[0]) == {"resourceType", "id", "meta", "status", "code", "valueQuantity", "effectiveDateTime"}
    assert matches[0]["valueQuantity"]["value"] == 71 and _subsetted(matches[0])
    assert included == [(await fhir.get(f"Patient/{patient.id}")).json()] and not _subsetted(included[0])

    # the same request without _elements: the whole stored resource, untagged
    plain = (await fhir.get("Observation", params=query)).json()
    whole = next(e["resource"] for e in plain["entry"] if e["search"]["mode"] == "match")
    assert whole["note"] == [{"text": "hémolysé"}] and not _subsetted(whole)
    assert whole == (await fhir.get(f"Observation/{observation.id}")).json()


@pytest.mark.parametrize("bad", ["code.coding", "code,,status", "Observation.code"])
async def test_a_name_that_is_no_root_element_name_is_a_400(fhir: httpx.AsyncClient, bad: str) -> None:
    answer = await fhir.get("ObservationDefinition", params={"_elements": bad})
    assert answer.status_code == 400
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["expression"] == ["_elements"]


async def test_an_empty_elements_is_ignored_as_every_empty_parameter(fhir: httpx.AsyncClient) -> None:
    """``_elements=`` names nothing: FHIR ignores an empty parameter, so the answer is the whole resources."""
    answer = await fhir.get("ObservationDefinition", params={"_elements": "", "_count": "1"})
    assert answer.status_code == 200, answer.text
    first = answer.json()["entry"][0]["resource"]
    assert not _subsetted(first) and "code" in first and len(first) > 4


async def test_a_read_with_elements_is_the_same_subset(fhir: httpx.AsyncClient) -> None:
    path = "ObservationDefinition/analysis-CREA"
    cut = await fhir.get(path, params={"_elements": "code"})
    assert cut.status_code == 200, cut.text
    assert set(cut.json()) == {"resourceType", "id", "meta", "code"} and _subsetted(cut.json())
    stored = (await fhir.get(path)).json()
    assert not _subsetted(stored) and len(stored) > 4
    assert (await fhir.get(path, params={"_elements": "code.coding"})).status_code == 400
