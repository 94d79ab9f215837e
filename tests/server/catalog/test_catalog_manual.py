"""Manual edit of a LOINC code with ``$set-loinc`` (server/catalog/manual.py): SGL.LOI.08 and SGL.LOI.09."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.access import caller_id
from tests.support.catalog_files import IN_CIRCUIT, concept_loinc, loinc_of, versions

pytestmark = pytest.mark.db


def _params(code: str, display: str = "", concept: str = "") -> dict[str, Any]:
    given = [("code", "valueCode", code), ("display", "valueString", display), ("concept", "valueCode", concept)]
    return {"resourceType": "Parameters", "parameter": [{"name": n, k: v} for n, k, v in given if v]}


def _recent(stamp: object) -> bool:
    return datetime.now(UTC) - datetime.fromisoformat(str(stamp)) < timedelta(minutes=5)


@pytest.mark.req("SGL.LOI.08", "SGL.LOI.09")
async def test_editing_an_analysis_code_keeps_its_creation_date_and_history_SGL_LOI_08_09(
        fhir: httpx.AsyncClient) -> None:
    ref = "ObservationDefinition/analysis-BILT"
    before = (await fhir.get(ref)).json()
    old = loinc_of(before)
    assert old is not None
    edited = await fhir.post(f"{ref}/$set-loinc", json=_params(IN_CIRCUIT[0], "Bilirubine totale Sér/Plas"))
    assert edited.status_code == 200, edited.text
    new = loinc_of(edited.json())
    assert new is not None and new["code"] == IN_CIRCUIT[0] and new["display"] == "Bilirubine totale Sér/Plas"
    assert new["created"] == old["created"] and new["modified"] != old["modified"] and _recent(new["modified"])
    assert new["source"] == f"manual:{caller_id(fhir)}"
    version = int(edited.json()["meta"]["versionId"])
    assert version == int(before["meta"]["versionId"]) + 1 and edited.headers["etag"] == f'W/"{version}"'
    previous = (await fhir.get(f"{ref}/_history/{version - 1}")).json()
    assert loinc_of(previous) == old  # the replaced code stays as a trace
    again = await fhir.post(f"{ref}/$set-loinc", json=_params(IN_CIRCUIT[0], "Bilirubine totale Sér/Plas"))
    assert again.status_code == 200 and again.json()["meta"]["versionId"] == str(version)  # same code: no change
    assert loinc_of(again.json()) == new


@pytest.mark.req("SGL.LOI.08", "SGL.LOI.09")
async def test_a_first_code_on_an_exam_is_created_and_modified_now_SGL_LOI_08_09(fhir: httpx.AsyncClient) -> None:
    ref = "ActivityDefinition/exam-LACDH"
    assert loinc_of((await fhir.get(ref)).json()) is None
    edited = await fhir.post(f"{ref}/$set-loinc", json=_params(IN_CIRCUIT[1], "LDH"))
    assert edited.status_code == 200, edited.text
    new = loinc_of(edited.json())
    assert new is not None and new["code"] == IN_CIRCUIT[1] and new["created"] == new["modified"]
    assert _recent(new["created"])
    translated = await fhir.get("ConceptMap/$translate", params={"code": "LACDH"})
    assert translated.json()["parameter"][0]["valueBoolean"] is True


@pytest.mark.req("SGL.LOI.08", "SGL.LOI.09")
async def test_chapter_and_sub_chapter_codes_are_edited_on_the_code_system_SGL_LOI_08_09(
        fhir: httpx.AsyncClient) -> None:
    for concept, code in (("URINE", IN_CIRCUIT[2]), ("HEMAT-VS", IN_CIRCUIT[3])):
        edited = await fhir.post("CodeSystem/catalogue/$set-loinc", json=_params(code, concept=concept))
        assert edited.status_code == 200, edited.text
        stored = concept_loinc(edited.json(), concept)
        assert stored is not None and stored["code"] == code and stored["created"] == stored["modified"]
    chapter = concept_loinc((await fhir.get("CodeSystem/catalogue")).json(), "URINE")
    assert chapter is not None and chapter["code"] == IN_CIRCUIT[2]


async def test_bad_edits_are_refused_with_their_location_and_write_nothing(fhir: httpx.AsyncClient) -> None:
    ref = "ObservationDefinition/analysis-HDL"
    before = await versions(fhir, ref, "CodeSystem/catalogue")
    wrong_digit = await fhir.post(f"{ref}/$set-loinc", json=_params("2085-8"))
    assert wrong_digit.status_code == 400 and wrong_digit.json()["issue"][0]["expression"] == ["analysis:HDL.loinc"]
    no_code = await fhir.post(f"{ref}/$set-loinc", json=_params("", "HDL"))
    assert no_code.status_code == 400 and no_code.json()["issue"][0]["expression"] == ["Parameters.code"]
    not_parameters = await fhir.post(f"{ref}/$set-loinc", json={"code": IN_CIRCUIT[4]})
    assert not_parameters.status_code == 400
    stale = await fhir.post(f"{ref}/$set-loinc", json=_params(IN_CIRCUIT[4]), headers={"If-Match": 'W/"999"'})
    assert stale.status_code == 412 and stale.json()["issue"][0]["expression"] == ["If-Match"]
    unknown = await fhir.post("ObservationDefinition/analysis-NOPE/$set-loinc", json=_params(IN_CIRCUIT[4]))
    assert unknown.status_code == 404
    chapterless = await fhir.post("CodeSystem/catalogue/$set-loinc", json=_params(IN_CIRCUIT[4], concept="HDL"))
    assert chapterless.status_code == 404 and "Parameters.concept" in chapterless.text
    assert await versions(fhir, ref, "CodeSystem/catalogue") == before


async def test_concurrent_edits_of_one_code_leave_one_consistent_history(fhir: httpx.AsyncClient) -> None:
    ref = "ObservationDefinition/analysis-ALB"
    start = int((await versions(fhir, ref))[ref])
    codes = IN_CIRCUIT[6:11]
    answers = await asyncio.gather(*(fhir.post(f"{ref}/$set-loinc", json=_params(code)) for code in codes))
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {200, 409} and 200 in statuses, [a.text for a in answers]
    refused = [a.json()["issue"][0] for a in answers if a.status_code == 409]
    assert all(i["code"] == "conflict" and i["expression"] for i in refused)
    history = (await fhir.get(f"{ref}/_history", params={"_count": "50"})).json()["entry"]
    assert len(history) == start + statuses.count(200)  # one version per accepted edit, none for a refused one
    winners = {c for c, s in zip(codes, statuses, strict=True) if s == 200}
    final = loinc_of((await fhir.get(ref)).json())
    assert final is not None and final["code"] in winners
