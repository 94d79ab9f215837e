"""Identitovigilance rules on INSi answers (SGL.INS.13–16), as the ANS scenarios describe them."""

from __future__ import annotations

import dataclasses

import pytest

from facades.insi import Identity, Ins, Result, Traits, check_importable, first_names_alerts
from facades.insi.answer import read_answer
from resources.errors import RuleViolation
from tests.support.insi_kit import KIT

TRAITS = Traits("ECETINSI", "", "PIERRE-ALAIN MURIEL FLORIANT", "M", "2009-07-14", "63220")
ACTIVE = Ins("1090763220834", "89", "1.2.250.1.213.1.4.8")


def _result(**changes: str) -> Result:
    traits = dataclasses.replace(TRAITS, **changes)
    return Result(code="00", label="OK", identity=Identity(active=ACTIVE, traits=traits))


def test_complete_answer_is_importable() -> None:
    identity = check_importable(_result())
    assert identity.active.matricule == "109076322083489"


@pytest.mark.req("SGL.INS.15")
@pytest.mark.parametrize("date", ["2009-00-14", "2009-07-00", "2009-00-00"])
def test_birth_date_with_00_day_or_month_is_not_imported_SGL_INS_15(date: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        check_importable(_result(birth_date=date))
    assert caught.value.rule == "SGL.INS.15"
    assert caught.value.expression == ["RESULTAT/INDIVIDU/TIQ/DateNaissance"]
    assert f"{date} has an unknown (00) day or month" in caught.value.diagnostics


@pytest.mark.req("SGL.INS.15")
def test_malformed_birth_date_is_not_imported_SGL_INS_15() -> None:
    with pytest.raises(RuleViolation) as caught:
        check_importable(_result(birth_date="14/07/2009"))
    assert caught.value.rule == "SGL.INS.15"


@pytest.mark.req("SGL.INS.16")
@pytest.mark.parametrize(
    ("change", "tag"),
    [
        ({"birth_name": ""}, "NomNaissance"),
        ({"first_names": "", "first_name": ""}, "ListePrenom"),
        ({"sex": " "}, "Sexe"),
    ],
    ids=["empty-birth-name", "empty-first-names", "empty-sex"],
)
def test_empty_birth_name_first_names_or_sex_is_not_imported_SGL_INS_16(change: dict[str, str], tag: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        check_importable(_result(**change))
    assert caught.value.rule == "SGL.INS.16"
    assert caught.value.expression == [f"RESULTAT/INDIVIDU/TIQ/{tag}"]
    assert caught.value.status == 422


@pytest.mark.req("SGL.INS.13")
@pytest.mark.parametrize("code", ["01", "02"])
def test_answer_without_identity_cannot_be_imported_SGL_INS_13(code: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        check_importable(Result(code=code, label="x"))
    assert caught.value.expression == ["RESULTAT/CR/CodeCR"]


def test_inconsistent_key_of_cnda_case_2_08_is_not_imported() -> None:
    result = read_answer((KIT / "test-identities/TEST_2.08_cas2.xml").read_bytes())
    with pytest.raises(RuleViolation) as caught:
        check_importable(result)
    assert caught.value.rule == "SGL.INS.08"
    assert caught.value.expression == ["RESULTAT/INDIVIDU/INSACTIF/IdIndividu/Cle"]


@pytest.mark.req("SGL.INS.14")
def test_first_name_matching_the_first_insi_first_name_raises_no_alert_SGL_INS_14() -> None:
    assert first_names_alerts(_result(), "Pierre-Alain") == []
    assert first_names_alerts(_result(), "pierre-alain", ("PIERRE-ALAIN", "MURIEL", "FLORIANT")) == []


@pytest.mark.req("SGL.INS.14")
def test_first_name_disagreeing_with_the_insi_list_raises_a_warning_not_a_refusal_SGL_INS_14() -> None:
    alerts = first_names_alerts(_result(), "MURIEL")
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.severity == "warning"
    assert alert.expression == ("RESULTAT/INDIVIDU/TIQ/ListePrenom",)
    assert "[SGL.INS.14]" in alert.diagnostics and "PIERRE-ALAIN MURIEL FLORIANT" in alert.diagnostics
    assert check_importable(_result()).traits.first_names == "PIERRE-ALAIN MURIEL FLORIANT"


@pytest.mark.req("SGL.INS.14")
def test_typed_list_of_first_names_differing_from_insi_raises_a_warning_SGL_INS_14() -> None:
    alerts = first_names_alerts(_result(), "PIERRE-ALAIN", ("PIERRE-ALAIN", "FLORIANT"))
    assert [a.severity for a in alerts] == ["warning"]
    assert "PIERRE-ALAIN FLORIANT" in alerts[0].diagnostics
