"""Outbound PAM-FR identity messages (ADT^A31 update, ADT^A40 merge): the shape of the ANS PAM-FR examples,
the INS in PID-3 and MRG-1 only for a qualified identity, read back by hl7apy and by our own PAM-FR reader."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from facades.hl7v2.identity_adt import build_identity_adt
from facades.hl7v2.outbound import OruParties
from facades.hl7v2.pam import read_identity_change
from facades.hl7v2.parser import parse
from facades.hl7v2.pid import AssigningAuthority
from resources.errors import InvalidInput
from tests.facades.hl7v2.test_hl7v2_pid import INS_VALUE, patient

CHU_X = AssigningAuthority("CHU-X", "000897406", "N", system="https://chu-x.example/ipp")
PARTIES = OruParties("OPENSGL", "750000000", "DXCARE", "CHU-X", CHU_X)
WHEN = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def merged_patient(status: str = "QUAL") -> dict[str, Any]:
    other = copy.deepcopy(patient(status))
    other["identifier"][0]["value"] = "000009"
    return other


@pytest.mark.req("SGL.INS.56")
def test_a31_has_the_pam_fr_header_the_qualified_ins_and_no_stay_SGL_INS_56() -> None:
    message = build_identity_adt(parties=PARTIES, control_id="SGLX1", event="A31", patient=patient("QUAL"),
                                 when=WHEN)
    parsed = parse(message.to_er7())
    assert [s.name for s in parsed.segments()] == ["MSH", "EVN", "PID", "PV1"]
    assert str(parsed.msh.field(9)) == "ADT^A31^ADT_A05" and parsed.control_id == "SGLX1"
    assert str(parsed.msh.field(12)) == "2.5^FRA^2.11" and str(parsed.msh.field(21)) == "2.11^IHE_FRANCE-2.11-PAM"
    assert parsed.msh.get(5) == "DXCARE" and parsed.msh.get(18) == "UNICODE UTF-8"
    pid = parsed.segment("PID")
    assert pid is not None
    assert str(pid.field(3)) == (f"000003^^^CHU-X&000897406&N^PI~{INS_VALUE}^^^ASIP-SANTE-INS-NIR"
                                 "&1.2.250.1.213.1.4.10&ISO^INS^^20101207")
    assert pid.get(32) == "VALI"
    assert parsed.segment("PV1").get(2) == "N"  # type: ignore[union-attr]
    assert parsed.segment("EVN").get(2) == "20261205093000+0000"  # type: ignore[union-attr]


@pytest.mark.req("SGL.INS.37")
@pytest.mark.parametrize("status", ["VALI", "RECUP", "PROV"])
def test_a31_of_a_not_qualified_identity_carries_the_traits_only_SGL_INS_37(status: str) -> None:
    text = build_identity_adt(parties=PARTIES, control_id="SGLX2", event="A31", patient=patient(status)).to_er7()
    assert INS_VALUE not in text and "1.2.250.1.213.1.4.10" not in text and "000003^^^CHU-X" in text


def test_a40_names_the_merged_patient_in_mrg_1_with_its_ins_only_when_qualified() -> None:
    message = build_identity_adt(parties=PARTIES, control_id="SGLX3", event="A40", patient=patient("VALI"),
                                 merged=merged_patient("QUAL"))
    parsed = parse(message.to_er7())
    assert [s.name for s in parsed.segments()] == ["MSH", "EVN", "PID", "MRG"]
    assert str(parsed.msh.field(9)) == "ADT^A40^ADT_A39"
    mrg = parsed.segment("MRG")
    assert mrg is not None and mrg.get("1.1") == "000009" and mrg.get("1.5") == "PI"
    assert mrg.get("1.1", repetition=2) == INS_VALUE and mrg.get("1.5", repetition=2) == "INS"
    plain = build_identity_adt(parties=PARTIES, control_id="SGLX4", event="A40", patient=patient("QUAL"),
                               merged=merged_patient("VALI"))
    assert str(parse(plain.to_er7()).segment("MRG").field(1)) == "000009^^^CHU-X&000897406&N^PI"  # type: ignore[union-attr]


@pytest.mark.parametrize("event", ["A31", "A40"])
def test_hl7apy_validates_the_identity_messages_against_hl7_2_5(event: str) -> None:
    merged = merged_patient() if event == "A40" else None
    message = build_identity_adt(parties=PARTIES, control_id="SGLX5", event=event,  # type: ignore[arg-type]
                                 patient=patient(), merged=merged)
    read = parse_message(message.to_er7(), validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=True)
    assert read.msh.msh_9.msh_9_2.value == event
    assert read.validate() is True


def test_our_own_pam_fr_reader_reads_the_merge_back() -> None:
    message = build_identity_adt(parties=PARTIES, control_id="SGLX6", event="A40", patient=patient(),
                                 merged=merged_patient())
    change = read_identity_change(parse(message.to_er7()))
    assert change.kind == "merge" and change.ipp.value == "000003"
    assert change.prior_ipp is not None and change.prior_ipp.value == "000009"


def test_a_patient_the_receiver_cannot_be_told_about_is_refused_and_misuse_is_caught() -> None:
    anonymous = patient("VALI")
    anonymous["identifier"] = []
    with pytest.raises(InvalidInput):
        build_identity_adt(parties=PARTIES, control_id="SGLX7", event="A31", patient=anonymous)
    with pytest.raises(ValueError, match="merged"):
        build_identity_adt(parties=PARTIES, control_id="SGLX8", event="A40", patient=patient())
    with pytest.raises(ValueError, match="A31 or A40"):
        build_identity_adt(parties=PARTIES, control_id="SGLX9", event="A08", patient=patient())  # type: ignore[arg-type]
