"""``$duplicates``: the anteriority search (SGL.INS.07-10) and its access trace (SGL.INS.03)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from resources.ins import OID_INS_NIR, ins_identifier_for
from resources.patient_traits import birthplace_extension
from server.identity.duplicates import name_key
from server.identity.vocabulary import with_reliability

pytestmark = pytest.mark.db
BORN = "1931-05-17"


def test_name_key_ignores_accents_separators_and_case() -> None:
    assert {name_key(t) for t in ("JEAN-PIERRE", "Jean Pierre", "JEAN--PIERRE", "jéan'piérre", "JEANPIERRE")} == {
        "JEANPIERRE"}
    assert name_key("François") == "FRANCOIS"


@pytest.fixture(scope="module")
async def people(desk: httpx.AsyncClient) -> dict[str, str]:
    target: dict[str, Any] = {
        "resourceType": "Patient", "gender": "male", "birthDate": BORN, "extension": [birthplace_extension("63220")],
        "name": [{"use": "official", "family": "DUPONT-MARTIN", "given": ["JEAN-PIERRE"],
                  "extension": [{"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/"
                                        "fr-core-patient-birth-list-given-name", "valueString": "JEAN-PIERRE LOUIS"}]},
                 {"use": "usual", "family": "L'HERMITE", "given": ["JP"]}]}
    other = {**target, "name": [{"use": "official", "family": "BERNARD", "given": ["ANNE"]}], "gender": "female"}
    ids = {}
    for key, body in (("target", target), ("other", other)):
        r = await desk.post("Patient", json=body)
        assert r.status_code == 201, r.text
        ids[key] = r.json()["id"]
    return ids


async def found(desk: httpx.AsyncClient, **query: str) -> list[str]:
    r = await desk.get("Patient/$duplicates", params=query)
    assert r.status_code == 200, r.text
    return sorted(e["resource"]["id"] for e in r.json()["entry"])


@pytest.mark.req("SGL.INS.07")
@pytest.mark.req("SGL.INS.10")
@pytest.mark.parametrize("name", [None, "lhermite", "DUPONT", "Louis", "jp"])
async def test_birth_date_alone_or_with_any_name_SGL_INS_07_10(desk: httpx.AsyncClient, people: dict[str, str],
                                                                name: str | None) -> None:
    """The 5 ANS scenarios: DOB alone; + used name; + birth name; + birth first name; + used first name."""
    query = {"birthdate": BORN, **({"name": name} if name else {})}
    expected = sorted(people.values()) if name is None else [people["target"]]
    assert await found(desk, **query) == expected


@pytest.mark.req("SGL.INS.09")
@pytest.mark.parametrize("typed", ["JEAN-PIERRE", "JEANPIERRE", "JEAN--PIERRE", "Jean Pierre", "L'HERMITE",
                                   "l hermite", "dupont martin", "Dupont-Mârtin"])
async def test_search_ignores_hyphens_apostrophes_and_accents_SGL_INS_09(desk: httpx.AsyncClient,
                                                                          people: dict[str, str], typed: str) -> None:
    assert await found(desk, birthdate=BORN, name=typed) == [people["target"]]


@pytest.mark.req("SGL.INS.08")
async def test_search_by_matricule_needs_15_characters_and_a_valid_key_SGL_INS_08(desk: httpx.AsyncClient,
                                                                                    feed: httpx.AsyncClient) -> None:
    body = {"resourceType": "Patient", "identifier": [ins_identifier_for("110086322083060", OID_INS_NIR)],
            "name": [{"use": "official", "family": "NESSI", "given": ["MICHELANGELO"]}], "gender": "male",
            "birthDate": "2010-08-07", "extension": [birthplace_extension("63220")]}
    r = await feed.post("Patient", json=with_reliability(body, "QUAL", {}))
    assert r.status_code == 201, r.text
    assert await found(desk, identifier="110086322083060") == [r.json()["id"]]
    for bad, why in (("1100863220830", "15 characters"), ("110086322083061", "expected 60")):
        refused = await desk.get("Patient/$duplicates", params={"identifier": bad})
        assert refused.status_code == 422 and "SGL.INS.08" in refused.text and why in refused.text
        assert refused.json()["issue"][0]["expression"] == ["identifier"]


@pytest.mark.req("SGL.INS.03")
async def test_duplicates_search_access_is_traced_SGL_INS_03(desk: httpx.AsyncClient, people: dict[str, str]) -> None:
    await found(desk, birthdate=BORN, name="bernard")
    events = (await desk.get("AuditEvent", params={"entity": f"Patient/{people['other']}"})).json()
    kinds = [e["resource"]["subtype"][0]["code"] for e in events.get("entry", [])]
    assert "$duplicates" in kinds


async def test_bad_queries_are_refused_with_their_location(desk: httpx.AsyncClient) -> None:
    r = await desk.get("Patient/$duplicates", params={"name": "DUPONT"})
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["birthdate"]
    r = await desk.get("Patient/$duplicates", params={"birthdate": BORN, "ville": "x"})
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["ville"]
