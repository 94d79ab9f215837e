"""Verification compares a stored INS with an INSi answer, field by field (SGL.INS.42)."""

from __future__ import annotations

import dataclasses

import pytest

from facades.insi import Identity, Ins, Result, Traits
from facades.insi.verification import compare, mask_ins_traits

STORED = Identity(
    active=Ins("1090763220834", "89", "1.2.250.1.213.1.4.8"),
    traits=Traits("ECETINSI", "PIERRE-ALAIN", "PIERRE-ALAIN MURIEL FLORIANT", "M", "2009-07-14", "63220"),
)


def _answer(identity: Identity) -> Result:
    return Result(code="00", label="OK", identity=identity)


@pytest.mark.req("SGL.INS.42")
def test_same_ins_and_traits_is_ok_SGL_INS_42() -> None:
    verification = compare(STORED, _answer(STORED))
    assert (verification.ok, verification.reasons, verification.summary) == (True, (), "OK")


@pytest.mark.req("SGL.INS.42")
def test_historic_matricule_is_ko_and_says_so_SGL_INS_42() -> None:
    returned = dataclasses.replace(
        STORED, active=Ins("2090763220834", "39", "1.2.250.1.213.1.4.8"), history=(STORED.active,)
    )
    verification = compare(STORED, _answer(returned))
    assert not verification.ok
    assert verification.reasons == ("matricule INS 109076322083489 is historic; active INS is 209076322083439",)


@pytest.mark.req("SGL.INS.42")
def test_each_differing_trait_is_a_reason_SGL_INS_42() -> None:
    traits = dataclasses.replace(STORED.traits, sex="F", birthplace="2A020")
    verification = compare(STORED, _answer(dataclasses.replace(STORED, traits=traits)))
    assert verification.status == "KO"
    assert verification.reasons == (
        "sex 'M' differs from INSi 'F'",
        "birthplace '63220' differs from INSi '2A020'",
    )
    assert verification.summary.startswith("KO: sex 'M'")


def test_case_and_accents_do_not_make_a_difference() -> None:
    traits = dataclasses.replace(STORED.traits, birth_name="Écetinsi")
    assert compare(dataclasses.replace(STORED, traits=traits), _answer(STORED)).ok


def test_other_oid_is_ko() -> None:
    returned = dataclasses.replace(STORED, active=dataclasses.replace(STORED.active, oid="1.2.250.1.213.1.4.10"))
    assert compare(STORED, _answer(returned)).reasons == ("OID 1.2.250.1.213.1.4.8 differs from 1.2.250.1.213.1.4.10",)


@pytest.mark.parametrize("code", ["01", "02"])
def test_no_single_identity_is_ko(code: str) -> None:
    verification = compare(STORED, Result(code=code, label="x"))
    assert not verification.ok and verification.reasons == (f"INSi answered {code} (x)",)


def test_the_ins_trait_reasons_can_be_masked_and_the_others_stay() -> None:
    """What masking on the way out relies on (``server/access/masking.py``): the birthplace and the birth first
    names of a KO's reasons replaced, whatever their quoting, even cut short (a Task's description is bounded)."""
    got = dataclasses.replace(STORED, traits=dataclasses.replace(
        STORED.traits, first_names="PIERRE-ALAIN D'ARC", birthplace="99134", birth_date="2009-07-15"))
    text = "; ".join(compare(STORED, _answer(got)).reasons)
    masked = mask_ins_traits(text, "[x]")
    assert "birthplace [x] differs from INSi [x]" in masked and "birth first names [x] differs from INSi [x]" in masked
    assert "99134" not in masked and "63220" not in masked and "D'ARC" not in masked and "MURIEL" not in masked
    assert "birth date '2009-07-14' differs from INSi '2009-07-15'" in masked
    cut = text[:text.index("99134") + 3]
    assert "991" not in mask_ins_traits(cut, "[x]")
