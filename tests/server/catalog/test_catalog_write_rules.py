"""A LOINC code of the catalogue changes only through $set-loinc / $loinc-import (SGL.LOI.08, SGL.LOI.09):
a plain PUT, a batch or transaction entry that changes one is refused and writes nothing; other edits of
a definition stay plain updates."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from resources.errors import RuleViolation
from resources.interactions import WriteIntent
from server.access.caller import Caller
from server.catalog.write_rules import CATALOGUE_STEP, loinc_changed_only_by_operations
from terminology import CONCEPT_MAP_URL, LOINC_SYSTEM
from tests.support.catalog_files import IN_CIRCUIT, concept_loinc, loinc_of

pytestmark = pytest.mark.db

ANALYSIS = "ObservationDefinition/analysis-CREA"


def _with_loinc(definition: dict[str, Any], code: str) -> dict[str, Any]:
    changed = copy.deepcopy(definition)
    for coding in changed["code"]["coding"]:
        if coding.get("system") == LOINC_SYSTEM:
            coding["code"] = code
    return changed


@pytest.mark.req("SGL.LOI.08", "SGL.LOI.09")
async def test_a_plain_put_changing_an_analysis_loinc_code_is_refused_SGL_LOI_08_09(fhir: httpx.AsyncClient) -> None:
    before = (await fhir.get(ANALYSIS)).json()
    assert loinc_of(before) is not None
    refused = await fhir.put(ANALYSIS, json=_with_loinc(before, IN_CIRCUIT[0]))
    assert refused.status_code == 422, refused.text
    issue = refused.json()["issue"][0]
    assert "SGL.LOI.08" in issue["diagnostics"] and "$set-loinc" in issue["diagnostics"]
    after = (await fhir.get(ANALYSIS)).json()
    assert after["meta"]["versionId"] == before["meta"]["versionId"] and loinc_of(after) == loinc_of(before)


@pytest.mark.req("SGL.LOI.09")
async def test_a_plain_put_rewriting_the_dates_of_a_loinc_code_is_refused_SGL_LOI_09(fhir: httpx.AsyncClient) -> None:
    before = (await fhir.get(ANALYSIS)).json()
    forged = copy.deepcopy(before)
    loinc = next(c for c in forged["code"]["coding"] if c.get("system") == LOINC_SYSTEM)
    loinc["extension"][0]["extension"][0]["valueDateTime"] = "2001-01-01T00:00:00+00:00"  # "created"
    refused = await fhir.put(ANALYSIS, json=forged)
    assert refused.status_code == 422, refused.text
    assert (await fhir.get(ANALYSIS)).json()["meta"]["versionId"] == before["meta"]["versionId"]


async def test_other_edits_of_a_definition_stay_plain_updates(fhir: httpx.AsyncClient) -> None:
    before = (await fhir.get(ANALYSIS)).json()
    edited = {**copy.deepcopy(before), "preferredReportName": "Créatinine (sérum)"}
    answer = await fhir.put(ANALYSIS, json=edited)
    assert answer.status_code == 200, answer.text
    assert answer.json()["preferredReportName"] == "Créatinine (sérum)" and loinc_of(answer.json()) == loinc_of(before)
    restored = await fhir.put(ANALYSIS, json={**before, "meta": answer.json()["meta"]})
    assert restored.status_code == 200, restored.text


@pytest.mark.req("SGL.LOI.08")
async def test_a_transaction_entry_changing_a_chapter_code_is_refused_and_writes_nothing_SGL_LOI_08(
        fhir: httpx.AsyncClient) -> None:
    analysis = (await fhir.get(ANALYSIS)).json()
    code_system = (await fhir.get("CodeSystem/catalogue")).json()
    chapter = next(c for c in code_system["concept"] if concept_loinc(code_system, c["code"]) is not None)
    forged = copy.deepcopy(code_system)
    target = next(c for c in forged["concept"] if c["code"] == chapter["code"])
    next(p for p in target["property"] if p["code"] == "loinc")["valueCoding"]["code"] = IN_CIRCUIT[2]
    label_only = {**analysis, "preferredReportName": "changed in the same transaction"}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": label_only, "request": {"method": "PUT", "url": ANALYSIS}},
        {"resource": forged, "request": {"method": "PUT", "url": "CodeSystem/catalogue"}}]}
    refused = await fhir.post("", json=bundle)
    assert refused.status_code == 422, refused.text
    assert (await fhir.get(ANALYSIS)).json()["meta"]["versionId"] == analysis["meta"]["versionId"]
    again = (await fhir.get("CodeSystem/catalogue")).json()
    assert again["meta"]["versionId"] == code_system["meta"]["versionId"]


async def test_the_concept_map_and_the_catalogue_step() -> None:
    """The rule on the local -> LOINC ConceptMap, and the one way through: the change operations' step."""
    current: dict[str, Any] = {"resourceType": "ConceptMap", "id": "catalogue-loinc", "url": CONCEPT_MAP_URL, "group": [
        {"target": LOINC_SYSTEM, "element": [{"code": "CREA", "target": [{"code": "2160-0"}]}]}]}
    proposed = copy.deepcopy(current)
    proposed["group"][0]["element"][0]["target"][0]["code"] = "14682-9"
    caller = Caller("user-1", "biologiste-responsable")
    with pytest.raises(RuleViolation, match=r"ConceptMap/catalogue-loinc \(CREA\)"):
        await loinc_changed_only_by_operations(caller, WriteIntent("ConceptMap", "update", current, proposed))
    by_operation = WriteIntent("ConceptMap", "update", current, proposed, step=CATALOGUE_STEP)
    assert await loinc_changed_only_by_operations(caller, by_operation) == proposed
    created = WriteIntent("ConceptMap", "create", None, proposed)
    assert await loinc_changed_only_by_operations(caller, created) == proposed
