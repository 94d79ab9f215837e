"""IdentityChange -> FR Core Patient: what the feed owns is replaced, the rest is kept."""

from __future__ import annotations

import pytest

from facades.hl7v2 import AssigningAuthority, build_pid, parse
from facades.hl7v2.pam import (
    BIRTH_DATE_CORRECTED_URL,
    apply_change,
    merged_into,
    read_identity_change,
    replacing,
    with_ipp,
)
from resources.conformance import validate_resource
from resources.ins import identity_status, ins_identifier
from tests.support.pam_samples import ADMISSION, INS, INS_OID, IPP_SYSTEM, adt, pid, template

RELIABILITY = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"


def _change(message: str):
    return read_identity_change(parse(message))


@pytest.mark.req("SGL.INS.54", "SGL.INS.56")
def test_ans_template_gives_a_qualified_fr_core_patient_whose_pid_round_trips_SGL_INS_54_SGL_INS_56() -> None:
    text = template(ADMISSION, "P1")
    patient = validate_resource(apply_change(_change(text)))
    assert [(i["system"], i["value"]) for i in patient["identifier"]] == [
        (IPP_SYSTEM, "000003"), (f"urn:oid:{INS_OID}", INS)]
    assert identity_status(patient) == "QUAL"
    assert patient["name"] == [{"use": "official", "family": "PAT-TROIS", "given": ["DOMINIQUE"], "extension": [
        {"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name",
         "valueString": "DOMINIQUE"}]}]
    assert (patient["gender"], patient["birthDate"], patient["active"]) == ("female", "1979-03-28", True)
    out = build_pid(patient, ipp_authority=AssigningAuthority("CHU-X", "000897406", "N"))
    sent = parse(text).segment("PID")
    for field in (3, 5, 7, 8, 32):
        assert str(out.field(field)) == str(sent.field(field)), field
    assert out.get("11.9", repetition=2) == "63220"


@pytest.mark.req("SGL.INS.54")
def test_a_traits_only_message_removes_the_stored_ins_and_downgrades_SGL_INS_54() -> None:
    qualified = apply_change(_change(adt("A28", "P2", pid())))
    for message in (adt("A31", "P3", pid(pid32="PROV")),
                    adt("A31", "P4", pid(ins=f'""^^^ASIP-SANTE-INS-NIR&{INS_OID}&ISO^INS'))):
        after = validate_resource(apply_change(_change(message), qualified))
        assert ins_identifier(after) is None
        assert [i["value"] for i in after["identifier"]] == ["000003"]
        assert identity_status(after) in ("PROV", "VALI") and identity_status(qualified) == "QUAL"


def test_what_the_message_does_not_own_is_kept() -> None:
    stored = apply_change(_change(adt("A28", "P5", pid())))
    stored["id"] = "p1"
    stored["identifier"].append({"system": "urn:oid:1.2.3", "value": "x"})
    stored["name"].append({"use": "nickname", "text": "Dodo"})
    stored["telecom"] = [{"system": "phone", "value": "0102030405"}]
    stored["extension"].append({"url": "https://opensgl.org/fhir/StructureDefinition/identity-status-history"})
    after = apply_change(_change(adt("A31", "P6", pid(names="PAT-TROIS^DOMINIQUE^DOMINIQUE^^^^L~MARTIN^DO^^^^^D"))),
                         stored)
    assert after["id"] == "p1" and after["telecom"] == stored["telecom"]
    assert {"system": "urn:oid:1.2.3", "value": "x"} in after["identifier"]
    assert [n["use"] for n in after["name"]] == ["official", "usual", "nickname"]
    assert after["name"][1] == {"use": "usual", "family": "MARTIN", "given": ["DO"]}
    urls = [e["url"] for e in after["extension"]]
    assert urls.count(RELIABILITY) == 1 and urls[-1].endswith("identity-status-history")
    assert "telecom" in stored and len(stored["name"]) == 2  # the stored dict is not modified


def test_collection_attributes_and_corrected_flag_are_written() -> None:
    message = adt("A28", "P7", pid(pid32="PROV~HOMD", birth_date=""), "ZFD|00^03^1979||N|Y|CV||PA")
    patient = validate_resource(apply_change(_change(message)))
    subs = next(e for e in patient["extension"] if e["url"] == RELIABILITY)["extension"]
    assert [(s["url"], s.get("valueCoding", {}).get("code")) for s in subs] == [
        ("identityStatus", "PROV"), ("methodCollection", "CV"), ("validationMode", "PA"), ("comment", "HOMD")]
    assert patient["birthDate"] == "1979-03"
    assert patient["_birthDate"]["extension"] == [{"url": BIRTH_DATE_CORRECTED_URL, "valueBoolean": True}]


def test_merge_links_and_change_of_identifier() -> None:
    survivor = apply_change(_change(adt("A28", "P8", pid())))
    merged = merged_into({**survivor, "id": "old"}, "new")
    assert merged["active"] is False
    assert merged["link"] == [{"other": {"reference": "Patient/new"}, "type": "replaced-by"}]
    kept = replacing(replacing(survivor, "old"), "old")
    assert kept["link"] == [{"other": {"reference": "Patient/old"}, "type": "replaces"}]
    change = _change(adt("A47", "P9", pid("000100"), "MRG|000003^^^CHU-X&000897406&N^PI"))
    assert change.prior_ipp is not None
    renamed = validate_resource(with_ipp(survivor, change.prior_ipp, change.ipp))
    assert [(i.get("use"), i["value"]) for i in renamed["identifier"]] == [
        ("usual", "000100"), ("old", "000003"), ("official", INS)]
