"""Outbound PID from a FHIR Patient, checked against the ANS PAM-FR example; INS only when qualified."""

import copy
from typing import Any

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_segment

from facades.hl7v2.message import Hl7Message, Segment
from facades.hl7v2.parser import parse
from facades.hl7v2.pid import (
    BIRTH_LIST_GIVEN_NAME_URL,
    BIRTH_PLACE_URL,
    INSEE_CODE_URL,
    AssigningAuthority,
    build_pid,
)
from resources.errors import InvalidInput
from resources.ins import (
    IDENTITY_RELIABILITY_URL,
    IDENTITY_STATUS_SYSTEM,
    OID_INS_NIR_TEST,
    ins_identifier_for,
)
from tests.facades.hl7v2.hl7v2_samples import ADMISSION

CHU_X = AssigningAuthority("CHU-X", "000897406", "N", system="https://chu-x.example/ipp")
INS_VALUE = "279035121518989"


def patient(status: str = "QUAL") -> dict[str, Any]:
    """PAT-TROIS DOMINIQUE as in the ANS examples, FR Core style."""
    ins = ins_identifier_for(INS_VALUE, OID_INS_NIR_TEST)
    ins["period"] = {"start": "2010-12-07"}
    return {
        "resourceType": "Patient",
        "meta": {"lastUpdated": "2024-03-06T11:11:53+01:00"},
        "extension": [
            {"url": IDENTITY_RELIABILITY_URL, "extension": [
                {"url": "identityStatus",
                 "valueCoding": {"system": IDENTITY_STATUS_SYSTEM, "code": status}}]},
            {"url": BIRTH_PLACE_URL, "valueAddress": {
                "extension": [{"url": INSEE_CODE_URL, "valueCoding": {"code": "63220"}}]}},
        ],
        "identifier": [{"system": "https://chu-x.example/ipp", "value": "000003"}, ins],
        "name": [{"use": "official", "family": "PAT-TROIS", "given": ["DOMINIQUE"],
                  "extension": [{"url": BIRTH_LIST_GIVEN_NAME_URL, "valueString": "DOMINIQUE"}]}],
        "gender": "female",
        "birthDate": "1979-03-28",
        "deceasedBoolean": False,
        "address": [{"use": "home", "line": ["28 Av de Breteuil"], "city": "PARIS", "postalCode": "75007",
                     "country": "FRA"}],
    }


def ans_pid() -> Segment:
    pid = parse(ADMISSION.read_bytes()).segment("PID")
    assert pid is not None
    return pid


@pytest.mark.parametrize("field", ["3", "5", "7", "8", "30", "32"])
def test_pid_of_the_ans_test_patient_matches_the_ans_example(field: str) -> None:
    ours = build_pid(patient(), ipp_authority=CHU_X)
    assert str(ours.field(int(field))) == str(ans_pid().field(int(field)))


def test_birthplace_and_home_address_match_the_ans_example() -> None:
    ours, theirs = build_pid(patient(), ipp_authority=CHU_X), ans_pid()
    for component in range(1, 10):
        for rep in (1, 2):
            path = f"11.{component}"
            assert ours.get(path, repetition=rep) == theirs.get(path, repetition=rep)
    assert ours.get("11.7", repetition=2) == "BDL" and ours.get("11.9", repetition=2) == "63220"


def test_last_update_goes_to_pid_33() -> None:
    assert build_pid(patient(), ipp_authority=CHU_X).get(33) == "20240306111153+0100"


@pytest.mark.req("SGL.INS.37")
@pytest.mark.req("SGL.INS.56")
@pytest.mark.parametrize(("status", "sends_ins", "pid32"),
                         [("QUAL", True, "VALI"), ("VALI", False, "VALI"), ("RECUP", False, "PROV"),
                          ("PROV", False, "PROV")])
def test_pid_carries_the_ins_only_for_a_qualified_identity_SGL_INS_37_SGL_INS_56(
        status: str, sends_ins: bool, pid32: str) -> None:
    pid = build_pid(patient(status), ipp_authority=CHU_X)
    text = pid.to_er7()
    assert (INS_VALUE in text) is sends_ins
    assert (OID_INS_NIR_TEST in text) is sends_ins
    assert pid.get(32) == pid32
    assert pid.get("3.1") == "000003" and pid.get("3.5") == "PI"
    assert pid.get("5.1") == "PAT-TROIS" and pid.get(7) == "19790328" and pid.get(8) == "F"
    assert pid.get("11.9", repetition=2) == "63220"


@pytest.mark.req("SGL.INS.56")
def test_qualified_ins_has_the_ans_pid_3_form_SGL_INS_56() -> None:
    pid = build_pid(patient("QUAL"), ipp_authority=CHU_X)
    assert str(pid.field(3).repetition(2)) == (
        "279035121518989^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS^^20101207")


@pytest.mark.req("SGL.INS.37")
def test_non_qualified_identity_without_ipp_cannot_build_a_pid_SGL_INS_37() -> None:
    p = patient("VALI")
    p["identifier"] = [i for i in p["identifier"] if i["system"] != CHU_X.fhir_system]
    with pytest.raises(InvalidInput) as info:
        build_pid(p, ipp_authority=CHU_X)
    assert info.value.expression == ["Patient.identifier"]


def test_qualified_identity_with_a_bad_ins_key_is_refused() -> None:
    p = patient("QUAL")
    p["identifier"][1]["value"] = "279035121518980"
    with pytest.raises(InvalidInput, match="expected 89"):
        build_pid(p, ipp_authority=CHU_X)


def test_used_name_goes_in_a_d_repetition_and_the_first_name_list_in_xpn_3() -> None:
    p = patient()
    p["name"] = [
        {"use": "official", "family": "MARTIN", "given": ["ANNE", "MARIE", "O'NEIL"]},
        {"use": "usual", "family": "DURAND|X", "given": ["ANNIE"]},
    ]
    pid = build_pid(p, ipp_authority=CHU_X)
    assert str(pid.field(5)) == "MARTIN^ANNE^ANNE MARIE O'NEIL^^^^L~DURAND\\F\\X^ANNIE^^^^^D"
    assert pid.get("5.1", repetition=2) == "DURAND|X"


def test_birth_name_is_required() -> None:
    p = patient()
    p["name"] = [{"use": "usual", "family": "DURAND"}]
    with pytest.raises(InvalidInput) as info:
        build_pid(p, ipp_authority=CHU_X)
    assert "official" in info.value.expression[0]


def test_partial_birth_date_unknown_gender_and_death_are_mapped() -> None:
    p = copy.deepcopy(patient("PROV"))
    p["birthDate"] = "1979-03"
    p.pop("gender")
    p.pop("deceasedBoolean")
    p["deceasedDateTime"] = "2026-01-02T03:04:05Z"
    pid = build_pid(p, ipp_authority=CHU_X)
    assert pid.get(7) == "197903" and pid.get(8) == "U"
    assert pid.get(29) == "20260102030405+0000" and pid.get(30) == "Y"


def test_malformed_birth_date_names_the_fhir_path() -> None:
    p = patient()
    p["birthDate"] = "28/03/1979"
    with pytest.raises(InvalidInput) as info:
        build_pid(p, ipp_authority=CHU_X)
    assert info.value.expression == ["Patient.birthDate"]


def test_pid_fits_in_a_message_that_parses_back() -> None:
    pid = build_pid(patient(), ipp_authority=CHU_X)
    msh = parse("MSH|^~\\&|SGL|LABO|DPI|CHU-X|20260101||ORU^R01^ORU_R01|1|P|2.5\r").msh
    again = parse(Hl7Message([msh, pid]).to_er7()).segment("PID")
    assert again is not None and again.to_er7() == pid.to_er7()


def test_birth_first_names_list_is_read_on_the_patient_too() -> None:
    p = patient()
    p["name"] = [{"use": "official", "family": "ECETINSI", "given": ["PIERRE-ALAIN"]}]
    p["extension"].append({"url": BIRTH_LIST_GIVEN_NAME_URL, "valueString": "PIERRE-ALAIN MURIEL FLORIANT"})
    pid = build_pid(p, ipp_authority=CHU_X)
    assert pid.get("5.2") == "PIERRE-ALAIN" and pid.get("5.3") == "PIERRE-ALAIN MURIEL FLORIANT"


def test_rnipp_birth_date_with_unknown_month_leaves_pid_7_empty() -> None:
    p = patient()
    p["birthDate"] = "1979-00-00"
    assert build_pid(p, ipp_authority=CHU_X).field(7).is_empty


@pytest.mark.parametrize("status", ["QUAL", "PROV"])
def test_hl7apy_validates_the_built_pid_as_hl7_2_5(status: str) -> None:
    pid = build_pid(patient(status), ipp_authority=CHU_X)
    parsed = parse_segment(pid.to_er7(), version="2.5", validation_level=VALIDATION_LEVEL.STRICT)
    assert parsed.validate() is True
    assert parsed.pid_5.pid_5_1.value == "PAT-TROIS"
