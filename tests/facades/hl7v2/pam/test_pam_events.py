"""ADT -> IdentityChange: events, PID-32 trust, INS kept or dropped, errors naming the spot."""

from __future__ import annotations

import pytest

from facades.hl7v2 import Hl7ParseError, parse
from facades.hl7v2.pam import PamRuleViolation, read_identity_change
from tests.support.pam_samples import (
    ADMISSION,
    DISCHARGE,
    INS,
    INS_OID,
    PAM_FR_CONSENT,
    adt,
    pid,
    template,
)


@pytest.mark.req("SGL.INS.54", "SGL.INS.55")
@pytest.mark.parametrize("path", [ADMISSION, DISCHARGE, *PAM_FR_CONSENT], ids=lambda p: p.name)
def test_ans_templates_read_as_a_qualified_identity_SGL_INS_54_SGL_INS_55(path) -> None:
    change = read_identity_change(parse(template(path, "C1")))
    assert change.kind == "upsert" and change.event in ("A01", "A03")
    assert change.ipp.value == "000003" and change.ipp.system == "urn:oid:000897406"
    assert change.ins is not None and (change.ins.matricule, change.ins.oid) == (INS, INS_OID)
    assert change.ins.effective == "2010-12-07"
    assert change.status == "QUAL" and change.reliability_codes == ("VALI",)
    t = change.traits
    assert (t.birth_name, t.first_name, t.first_names) == ("PAT-TROIS", "DOMINIQUE", ("DOMINIQUE",))
    assert (t.birth_date, t.gender) == ("1979-03-28", "female")
    assert t.birthplace is not None and t.birthplace.cog == "63220"
    assert t.home is not None and (t.home.city, t.home.postal_code) == ("PARIS", "75007")


@pytest.mark.req("SGL.INS.54")
@pytest.mark.parametrize("pid32", ["PROV", "RECUP", "VIDE", "VALI~DOUT", "QUAL~FICTI"])
def test_without_vali_the_ins_is_not_trusted_traits_only_SGL_INS_54(pid32) -> None:
    change = read_identity_change(parse(adt("A31", "C2", pid(pid32=pid32))))
    assert change.ins is None and not change.ins_deleted
    assert change.status == "PROV"
    assert change.traits.birth_name == "PAT-TROIS"
    assert [w.location.expression() for w in change.warnings if w.location] == ["PID[1]-3[2].1"]


def test_vali_without_ins_is_a_validated_identity() -> None:
    change = read_identity_change(parse(adt("A28", "C3", pid(ins=None))))
    assert change.status == "VALI" and change.ins is None and not change.ins_deleted


@pytest.mark.req("SGL.INS.54")
def test_an_ins_sent_as_explicit_null_is_a_deletion_SGL_INS_54() -> None:
    deleted = f'""^^^ASIP-SANTE-INS-NIR&{INS_OID}&ISO^INS'
    change = read_identity_change(parse(adt("A31", "C4", pid(ins=deleted))))
    assert change.ins_deleted and change.ins is None and change.status == "VALI"


@pytest.mark.req("SGL.INS.55")
def test_a_wrong_ins_key_is_a_rule_violation_at_pid_3_SGL_INS_55() -> None:
    wrong = f"279035121518988^^^ASIP-SANTE-INS-NIR&{INS_OID}&ISO^INS"
    with pytest.raises(PamRuleViolation) as err:
        read_identity_change(parse(adt("A28", "C5", pid(ins=wrong))))
    assert err.value.rule == "SGL.INS.08"
    assert err.value.location.parts() == ["PID", "1", "3", "2", "1"]
    assert "expected 89" in err.value.diagnostics


def test_the_ins_is_found_by_its_oid_whatever_the_namespace() -> None:
    other = f"{INS}^^^ASIP-SANTE-INS-NIA&{INS_OID}&ISO^INS"
    change = read_identity_change(parse(adt("A28", "C6", pid(ins=other))))
    assert change.ins is not None and change.ins.oid == INS_OID and change.ins.effective is None


def test_merge_and_change_of_identifier_read_mrg_1() -> None:
    mrg = "MRG|000099^^^CHU-X&000897406&N^PI"
    merge = read_identity_change(parse(adt("A40", "C7", pid(), mrg)))
    assert merge.kind == "merge" and merge.prior_ipp is not None and merge.prior_ipp.value == "000099"
    change = read_identity_change(parse(adt("A47", "C8", pid("000100"), mrg)))
    assert change.kind == "change-id" and change.ipp.value == "000100"
    assert change.prior_ipp is not None and change.prior_ipp.location.segment == "MRG"


def test_the_sending_facilitys_ipp_wins_over_another_domains() -> None:
    cx = "777^^^OTHER&1.2.3&ISO^PI~000003^^^CHU-X&000897406&N^PI"
    message = adt("A28", "C9", pid(ins=None).replace("000003^^^CHU-X&000897406&N^PI", cx))
    assert read_identity_change(parse(message)).ipp.value == "000003"


@pytest.mark.parametrize(("message", "where", "code"), [
    (adt("A28", "E1", pid().replace("000003^^^CHU-X&000897406&N^PI~", "")), "PID[1]-3", 101),
    (adt("A28", "E2", pid(names="^^^^^^D")), "PID[1]-5", 101),
    (adt("A28", "E3", pid(birth_date="19791332")), "PID[1]-7", 102),
    (adt("A28", "E4", pid(sex="X")), "PID[1]-8", 103),
    (adt("A40", "E5", pid()), "MRG[1]", 101),
    (adt("A28", "E6", pid()).replace("PID|", "PV1|"), "PID[1]", 101),
    (adt("A02", "E7", pid()), "MSH[1]-9", 201),
    (adt("A28", "E8", pid(places="^^^^^^BDL^^6322")), "PID[1]-11[1].9", 102),
])
def test_unreadable_content_names_the_segment_and_field(message, where, code) -> None:
    with pytest.raises(Hl7ParseError) as err:
        read_identity_change(parse(message))
    assert err.value.location.expression() == where and err.value.code == code
    assert err.value.expression == [where]


def test_unknown_reliability_codes_are_warned_and_ignored() -> None:
    change = read_identity_change(parse(adt("A28", "W1", pid(pid32="VALI~ZZZ"))))
    assert change.reliability_codes == ("VALI",) and change.status == "QUAL"
    assert [w.location.expression() for w in change.warnings if w.location] == ["PID[1]-32[2]"]


def test_pid_5_used_name_and_birth_first_names_list() -> None:
    names = "MARTIN^JEAN^JEAN PIERRE-ALAIN^^^^L~DUPONT^JP^^^^^D"
    traits = read_identity_change(parse(adt("A28", "N1", pid(ins=None, names=names)))).traits
    assert traits.first_names == ("JEAN", "PIERRE-ALAIN") and traits.first_name == "JEAN"
    assert (traits.used_name, traits.used_first_name) == ("DUPONT", "JP")


def test_pid_23_stands_in_for_a_missing_bdl() -> None:
    segment = pid(ins=None, places="").split("|")
    assert read_identity_change(parse(adt("A28", "P1", "|".join(segment)))).traits.birthplace is None
    segment[23] = "99134"
    change = read_identity_change(parse(adt("A28", "P2", "|".join(segment))))
    assert change.traits.birthplace is not None and change.traits.birthplace.cog == "99134"
    segment[23] = "CLERMONT-FERRAND"
    change = read_identity_change(parse(adt("A28", "P3", "|".join(segment))))
    assert change.traits.birthplace is not None and change.traits.birthplace.city == "CLERMONT-FERRAND"
