"""Patient trait accessors: the FR Core places each RNIV trait is read from."""

from __future__ import annotations

from resources import patient_traits as traits
from tests.support.pdf_samples import ans_test_patient


def test_strict_traits_are_read_from_the_fr_core_places() -> None:
    patient = ans_test_patient()
    assert traits.birth_name(patient) == "PAT-TROIS"
    assert traits.first_birth_given_name(patient) == "DOMINIQUE"
    assert traits.birth_given_names(patient) == ["DOMINIQUE"]
    assert traits.birth_date(patient) == "1979-03-28"
    assert traits.sex_code(patient) == "F"
    assert traits.birthplace_cog(patient) == "63220"
    assert (traits.used_name(patient), traits.used_given_name(patient)) == ("MARTIN", "DOMI")


def test_birth_given_names_come_from_the_list_extension_then_the_official_name() -> None:
    patient = ans_test_patient()
    patient["extension"].append(traits.birth_given_names_extension(["IGNORED"]))
    patient["extension"] = [e for e in patient["extension"] if e.get("valueString") != "DOMINIQUE"]
    assert traits.birth_given_names(patient) == ["IGNORED"]
    patient["extension"] = [{"url": traits.BIRTH_LIST_GIVEN_NAME_URL_V1, "valueString": "PIERRE-ALAIN  MURIEL"}]
    assert traits.birth_given_names(patient) == ["PIERRE-ALAIN", "MURIEL"]
    patient["extension"] = []
    patient["name"][0]["given"] = ["DOMINIQUE", "ANNE"]
    assert traits.birth_given_names(patient) == ["DOMINIQUE", "ANNE"]


def test_birthplace_is_read_only_from_the_insee_code_extension() -> None:
    patient = {"extension": [{"url": traits.BIRTHPLACE_URL,
                              "valueAddress": {"district": "63220", "postalCode": "63200"}}]}
    assert traits.birthplace_cog(patient) is None
    patient = {"extension": [traits.birthplace_extension("99255")]}
    assert traits.birthplace_cog(patient) == "99255"


def test_missing_traits_read_as_none_or_empty() -> None:
    empty: dict[str, object] = {}
    assert traits.birth_name(empty) is None
    assert traits.first_birth_given_name(empty) is None
    assert traits.birth_given_names(empty) == []
    assert traits.sex_code({"gender": "unknown"}) is None
    assert traits.sex_code({"gender": "other"}) == "I"
