"""OML^O21 read into orders: fields to FHIR parts, and every error with its HL7 location."""

from __future__ import annotations

import pytest

from facades.hl7v2 import ErrorLocation, Hl7ContentError, Hl7ParseError, parse
from facades.hl7v2.orders import fhir_datetime, read_oml_o21
from resources.fhirjson import dumps
from tests.support.oml_samples import oml


def test_oml_o21_gives_patient_orders_and_specimens() -> None:
    message = read_oml_o21(parse(oml("C1", "IPP1", [("P1", "GLY", "S1"), ("P2", "NFS", "S2")], group="G7")))
    assert message.control_id == "C1" and message.sender == "DPI@CHU-X"
    assert message.ipp["system"] == "urn:oid:1.2.250.1.999.1" and message.ipp["value"] == "IPP1"
    patient = message.patient
    assert patient["name"] == [{"use": "official", "family": "ORDRE-HL7", "given": ["CAMILLE"]}]
    assert patient["birthDate"] == "1985-04-12" and patient["gender"] == "female"
    assert "63113" in str(patient["extension"]) and "CAMILLE JEANNE" in str(patient["extension"])
    first, second = message.orders
    assert (first.exam_code, first.exam_coding_system, second.exam_code) == ("GLY", "L", "NFS")
    assert first.exam_location.expression() == "OBR[1]-4.1"
    assert first.placer_number == {"system": "urn:opensgl:hl7-namespace:DPI-CHU", "value": "P1"}
    assert first.placer_location.expression() == "ORC[1]-2"
    assert first.placer_group == {"system": "urn:opensgl:hl7-namespace:DPI-CHU", "value": "G7"}
    assert first.requester == {"identifier": {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "10003"},
                               "display": "DR PAUL MARTIN"}
    assert [c["identifier"]["value"] for c in first.copies_to] == ["20001", "20002"]
    assert first.specimen_number == {"system": "urn:opensgl:hl7-namespace:DPI-CHU", "value": "S1"}
    assert first.collected == "2026-11-26T07:45:00+01:00"


@pytest.mark.parametrize(("edit", "where", "code"), [
    (lambda m: m.replace("IPP9^^^CHU-X&1.2.250.1.999.1&ISO^PI", "IPP9^^^CHU-X&1.2.250.1.999.1&ISO^NH"),
     "PID[1]-3", 101),
    (lambda m: m.replace("ORC|NW", "ORC|CA", 1), "ORC[1]-1", 103),
    (lambda m: m.replace("|20261126074500", "|2026112607450"), "SPM[1]-17", 102),
    (lambda m: m.replace("GLY^Examen GLY^L", ""), "OBR[1]-4.1", 101),
    (lambda m: "\r".join(s for s in m.split("\r") if not s.startswith("ORC")), "OBR[1]", 100),
    (lambda m: m.replace("|F|", "|Z|"), "PID[1]-8", 103),
    (lambda m: m.replace("OML^O21^OML_O21", "OML^O33"), "MSH[1]-9", 201),
], ids=["no-ipp", "not-new-order", "bad-date", "no-exam", "obr-without-orc", "bad-sex", "other-event"])
def test_bad_oml_names_the_spot(edit: object, where: str, code: int) -> None:
    text = edit(oml("C2", "IPP9", [("P1", "GLY", "S1")]))  # type: ignore[operator]
    with pytest.raises(Hl7ParseError) as caught:
        read_oml_o21(parse(text))
    assert caught.value.location.expression() == where
    assert caught.value.code == code


def test_oml_without_pid_or_orders_is_refused() -> None:
    text = oml("C3", "IPP9", [("P1", "GLY", "S1")])
    without_pid = "\r".join(s for s in text.split("\r") if not s.startswith("PID"))
    with pytest.raises(Hl7ParseError, match="PID"):
        read_oml_o21(parse(without_pid))
    without_orders = "\r".join(s for s in text.split("\r") if s[:3] not in ("ORC", "OBR", "SPM"))
    with pytest.raises(Hl7ParseError, match="ORC/OBR"):
        read_oml_o21(parse(without_orders))


@pytest.mark.parametrize(("value", "expected"), [
    ("19790328", "1979-03-28"), ("202611260745", "2026-11-26T07:45:00+01:00"),
    ("20260715074500", "2026-07-15T07:45:00+02:00"), ("20261126074512+0000", "2026-11-26T07:45:12+00:00"),
    ("", None),
])
def test_hl7_dates_become_fhir_datetimes_with_an_offset(value: str, expected: str | None) -> None:
    assert fhir_datetime(value, ErrorLocation("SPM", 1, 17)) == expected


def test_the_prescriber_s_nte_are_the_order_s_notes_and_an_observation_s_are_not() -> None:
    """Found by probing the MLLP listener as a hospital EHR: ``NTE|1|P|Patient sous AVK...`` after an OBR was
    acknowledged AA and kept nowhere but the raw journal."""
    text = oml("CTRL-N", "IPP-N", [("PL-N1", "GLY", "S-N1"), ("PL-N2", "NFS", "S-N2")])
    text = text.replace("SPM|1|S-N1", "NTE|1|P|Patient sous AVK~merci de doser l'INR\rNTE|2|P|À jeun \\T\\ au repos\r"
                        "OBX|1|NM|3141-9^Poids^LN||72.5|kg|||||F\rNTE|1|P|pesé ce matin\rSPM|1|S-N1", 1)
    first, second = read_oml_o21(parse(text)).orders
    assert first.notes == ("Patient sous AVK\nmerci de doser l'INR", "À jeun & au repos")
    assert second.notes == ()


def _with_clinical(segments: str) -> str:
    return oml("CTRL-C", "IPP-C", [("PL-C1", "CREA", "S-C1")]).replace("SPM|1|S-C1", f"{segments}SPM|1|S-C1", 1)


def test_the_prescriber_s_obx_are_observations_of_the_order_with_their_type_unit_status_and_notes() -> None:
    """Found by probing as a hospital EHR: the weight and pregnancy sent under the OBR were ACKed AA and kept
    nowhere but the raw journal."""
    text = _with_clinical("OBX|1|NM|29463-7^Poids corporel^LN||72.5|kg^kilogramme^UCUM|||||F|||20261126073000\r"
                          "NTE|1|P|pesé ce matin\r"
                          "OBX|2|CWE|82810-3^Grossesse^LN||LA15173-0^Enceinte^LN||||||P\r"
                          "OBX|3|ST|TRT^Traitement en cours^L||Préviscan 20 mg\\F\\ 1/j||||||F\r"
                          "OBX|4|SN|HEURE-REPAS^Jeûne (h)^L||>^12|h|||||F\r")
    [order] = read_oml_o21(parse(text)).orders
    weight, pregnancy, treatment, fasting = order.clinical
    assert weight == {
        "resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Poids corporel"}],
                 "text": "Poids corporel"},
        "valueQuantity": {"value": 72.5, "unit": "kilogramme", "system": "http://unitsofmeasure.org", "code": "kg"},
        "effectiveDateTime": "2026-11-26T07:30:00+01:00", "note": [{"text": "pesé ce matin"}]}
    assert order.notes == ()
    assert pregnancy["status"] == "preliminary"
    assert pregnancy["valueCodeableConcept"] == {
        "coding": [{"system": "http://loinc.org", "code": "LA15173-0", "display": "Enceinte"}], "text": "Enceinte"}
    assert treatment["valueString"] == "Préviscan 20 mg| 1/j"
    assert treatment["code"]["coding"] == [{"system": "urn:opensgl:hl7-coding-system:L", "code": "TRT",
                                            "display": "Traitement en cours"}]
    assert fasting["valueQuantity"] == {"value": 12, "unit": "h", "comparator": ">"}


def test_a_prescriber_s_nm_keeps_its_digits() -> None:
    """A weight sent as ``72.50`` is kept as ``72.50`` (FHIR decimal precision), not ``72.5``."""
    text = _with_clinical("OBX|1|NM|29463-7^Poids corporel^LN||72.50|kg^kilogramme^UCUM|||||F\r")
    [weight] = read_oml_o21(parse(text)).orders[0].clinical
    assert dumps(weight["valueQuantity"]).startswith(b'{"value":72.50,')


@pytest.mark.parametrize(("obx", "where", "code"), [
    ("OBX|1|NM|29463-7^Poids^LN||soixante|kg|||||F\r", ("OBX", "1", "5"), 102),
    ("OBX|1|NM|29463-7^Poids^LN||72|kg|||||X\r", ("OBX", "1", "11"), 103),
    ("OBX|1|NM|29463-7^Poids^LN||72|kg\r", ("OBX", "1", "11"), 101),
    ("OBX|1|NM|^Poids||72|kg|||||F\r", ("OBX", "1", "3"), 101),
    ("OBX|1|NM|29463-7^Poids^LN|||kg|||||F\r", ("OBX", "1", "5"), 101),
])
def test_a_clinical_obx_that_cannot_be_read_is_refused_with_ae_at_its_field(
        obx: str, where: tuple[str, str, str], code: int) -> None:
    with pytest.raises(Hl7ContentError) as caught:
        read_oml_o21(parse(_with_clinical(obx)))
    location = caught.value.location
    assert (location.segment, str(location.sequence), str(location.field)) == where
    assert caught.value.code == code


def test_an_obx_before_any_obr_is_refused_not_dropped() -> None:
    text = oml("CTRL-C", "IPP-C", [("PL-C1", "CREA", "S-C1")]).replace(
        "ORC|", "OBX|1|NM|29463-7^Poids^LN||72|kg|||||F\rORC|", 1)
    with pytest.raises(Hl7ContentError, match="OBX out of place"):
        read_oml_o21(parse(text))
