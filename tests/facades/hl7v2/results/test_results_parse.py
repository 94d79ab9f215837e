"""ORU^R01 and OUL^R22 -> typed results, with the spot named on every error."""

from __future__ import annotations

import pytest

from facades.hl7v2 import Hl7ParseError, parse
from facades.hl7v2.results import parse_results

ORU = (
    "MSH|^~\\&|BIO1|LABO|SGL|LABO|20261126101500+0100||ORU^R01^ORU_R01|M1|P|2.5|||||FRA|UNICODE UTF-8\r"
    "PID|1||123^^^LABO||DUPONT^JEAN\r"
    "OBR|1|PL-9|ACC-001|GLY^Glycémie\r"
    "OBX|1|NM|GLU^Glucose||1.02|g/L|0.70-1.10|N|||F|||20261126100000+0100||||BIO1|20261126101200+0100\r"
    "OBX|2|SN|UREA^Urée||<^0.5|mmol/L|2.5-7.5|L~LL|||F\r"
    "OBX|3|ST|COMM^Commentaire||hémolysé\r"
)

OUL = (
    "MSH|^~\\&|LAS|LABO|SGL|LABO|20261126101500||OUL^R22^OUL_R22|M2|P|2.5.1\r"
    "PID|1||123^^^LABO\r"
    "SPM|1|ACC-002&LAS^FILL-2||SER\r"
    "OBX|1|NM|VOL^Volume||2|mL\r"
    "SAC|||CONT-2\r"
    "OBR|1||ORD-2|CREAT\r"
    "ORC|SC\r"
    "OBX|1|NM|CREA^Créatinine||75|umol/L||H|||F|||||||BIO1|20261126101100\r"
    "SPM|2|ACC-003\r"
    "OBR|1||ORD-3|GLY\r"
    "OBX|1|NM|GLU||0.95|g/L|||||F\r"
)


def test_oru_results_carry_specimen_code_value_units_flags_and_times() -> None:
    msg = parse_results(parse(ORU))
    assert msg.control_id == "M1" and msg.sending_application == "BIO1"
    assert msg.sent_at == "2026-11-26T10:15:00+01:00"
    glu, urea, comment = msg.results
    assert (glu.specimen_id, glu.analyzer, glu.test_code, glu.value, glu.units) == ("ACC-001", "BIO1", "GLU", "1.02",
                                                                                    "g/L")
    assert glu.flags == ("N",) and glu.status == "F" and glu.reference_range == "0.70-1.10"
    assert glu.observed_at == "2026-11-26T10:00:00+01:00" and glu.analyzed_at == "2026-11-26T10:12:00+01:00"
    assert (urea.comparator, urea.value, urea.flags) == ("<", "0.5", ("L", "LL"))
    assert comment.value == "hémolysé" and comment.value_type == "ST"
    assert glu.location.expression() == "OBX[1]"


def test_oul_r22_takes_the_specimen_of_each_spm_group_and_skips_specimen_observations() -> None:
    msg = parse_results(parse(OUL))
    assert [(r.specimen_id, r.test_code) for r in msg.results] == [("ACC-002", "CREA"), ("ACC-003", "GLU")]
    crea = msg.results[0]
    assert crea.analyzer == "BIO1" and crea.analyzed_at == "2026-11-26T10:11:00+01:00"
    assert msg.results[1].analyzer == "LAS"


def test_oru_with_spm_after_its_observations_uses_that_specimen() -> None:
    text = ("MSH|^~\\&|BIO1|L|SGL|L|20261126||ORU^R01|M3|P|2.5.1\r"
            "OBR|1||FILLER\rOBX|1|NM|GLU||1|g/L\rSPM|1|TUBE-7\r")
    assert parse_results(parse(text)).results[0].specimen_id == "TUBE-7"


@pytest.mark.parametrize(("segment", "expression", "words"), [
    ("OBX|1|NM|GLU||abc|g/L", "OBX[1]-5", "not a number"),
    ("OBX|1|NM|||1|g/L", "OBX[1]-3", "OBX-3"),
    ("OBX|1|NM|GLU||1|g/L||||||||2026-11-26", "OBX[1]-14", "date/time"),
    ("OBX|1|SN|GLU||<^x", "OBX[1]-5", "structured numeric"),
    ("OBX|1|NM|GLU|||g/L||H|||F", "OBX[1]-5", "OBX-11 F says the result is final"),
    ("OBX|1|CWE|GERME||||||||C", "OBX[1]-5", "OBX-11 C says the result is corrected"),
])
def test_malformed_observation_is_refused_alone_naming_its_field(segment: str, expression: str, words: str) -> None:
    text = ("MSH|^~\\&|BIO1|L|SGL|L|20261126||ORU^R01|M4|P|2.5\rOBR|1||ACC\r" + segment + "\r"
            "OBX|2|NM|UREE||0.3|g/L\r")
    parsed = parse_results(parse(text))
    [refused] = parsed.refused
    assert refused.location.expression() == expression and words in refused.diagnostics
    assert refused.raw == segment and refused.specimen_id == "ACC"
    assert [r.test_code for r in parsed.results] == ["UREE"]  # the good OBX after it is still read


def test_result_without_any_specimen_id_is_refused() -> None:
    text = "MSH|^~\\&|BIO1|L|SGL|L|20261126||ORU^R01|M5|P|2.5\rOBR|1\rOBX|1|NM|GLU||1|g/L\r"
    [refused] = parse_results(parse(text)).refused
    assert "no specimen id" in refused.diagnostics and refused.code == 101


def test_other_message_types_are_not_results() -> None:
    with pytest.raises(Hl7ParseError) as err:
        parse_results(parse("MSH|^~\\&|A|B|C|D|20261126||ADT^A01|X|P|2.5\r"))
    assert err.value.code == 200


def test_nte_after_an_obx_are_that_result_s_comments_and_nowhere_else() -> None:
    """Found by probing the MLLP listener: an NTE after an OBX ("hémolyse", "caillot détecté") was
    acknowledged and not kept anywhere but the raw journal."""
    msg = parse_results(parse(
        "MSH|^~\\&|BIO1|LABO|SGL|LABO|20261126101500+0100||ORU^R01^ORU_R01|M3|P|2.5|||||FRA|UNICODE UTF-8\r"
        "PID|1||123^^^LABO||DUPONT^JEAN\rNTE|1|L|patient note, not a result's\r"
        "OBR|1|PL-9|ACC-001|GLY^Glycémie\r"
        "OBX|1|NM|GLU^Glucose||1.02|g/L|0.70-1.10|N|||F\r"
        "NTE|1|I|Hémolyse modérée \\T\\ lipémie~indice H=2\rNTE|2|I|\r"
        "NTE|3|I|Résultat après dilution 1/2\r"
        "OBX|2|NM|UREA^Urée||5.1|mmol/L|||||F\r"))
    glu, urea = msg.results
    assert glu.comments == ("Hémolyse modérée & lipémie\nindice H=2", "Résultat après dilution 1/2")
    assert urea.comments == ()


@pytest.mark.parametrize("status", ["W", "D", "w"])
def test_a_result_posted_as_wrong_or_deleted_is_refused_at_obx_11_not_taken_for_a_resend(status: str) -> None:
    """Found by probing the MLLP listener: an OBX-11 ``W`` repeating a stored value was ACKed AA as a resend."""
    msg = parse_results(parse(ORU.replace("|1.02|g/L|0.70-1.10|N|||F|", f"|1.02|g/L|0.70-1.10|N|||{status}|")))
    [refused] = msg.refused
    assert (refused.location.expression(), refused.code) == ("OBX[1]-11", 103) and refused.test_code == "GLU"
    assert f"OBX-11 {status.upper()}" in refused.diagnostics and "not applied automatically" in refused.diagnostics
    assert [r.test_code for r in msg.results] == ["UREA", "COMM"]
