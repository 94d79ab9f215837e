"""Errors point at the HL7 spot, including rules a write rule raises in FHIR terms."""

from facades.hl7v2 import ErrorLocation
from facades.hl7v2.pam import PamRuleViolation, location_of
from resources.errors import NotFound, RuleViolation


def test_a_write_rule_on_a_patient_element_maps_to_its_pid_field() -> None:
    cases = {
        "Patient.identifier.where(type.coding.code.startsWith('INS'))": 3,
        "Patient.name.where(use='official').family": 5,
        "Patient.birthDate": 7,
        "Patient.gender": 8,
        "Patient.extension('patient-birthPlace')": 11,
        "Patient.extension('fr-core-identity-reliability')": 32,
        "Patient.extension('identityReliability').extension('identityStatus')": 32,
    }
    for expression, field in cases.items():
        location = location_of(RuleViolation("SGL.INS.29", "locked", expression=expression))
        assert location == ErrorLocation("PID", 1, field), expression


def test_own_location_wins_and_unknown_spots_give_none() -> None:
    own = ErrorLocation("PID", 1, 3, 2, 1)
    assert location_of(PamRuleViolation("SGL.INS.08", "bad key", own)) is own
    assert location_of(NotFound("nothing")) is None
    assert location_of(RuleViolation("X", "y", expression="Patient.extension('locked-traits')")) is None
    assert PamRuleViolation("SGL.INS.08", "bad key", own).expression == ["PID[1]-3[2].1"]


def test_an_hl7_path_expression_is_read_back() -> None:
    for location in (ErrorLocation("MRG", 1, 1, 1, 1), ErrorLocation("PID", 2, 3), ErrorLocation("ZFD"),
                     ErrorLocation("PID", 1, 3, 2, 1, 4)):
        assert location_of(NotFound("x", expression=location.expression())) == location
