"""``read_patient`` (facades/cda/reader/identity.py): the identity an ANS example and our own N3 name."""

from __future__ import annotations

from facades.cda import DocumentPatient, read_crbio, write_n3
from facades.cda.conformance.kit import default_kit
from tests.support import crbio_samples as samples

TSH = default_kit().root / "ExemplesCDA" / "BIO-CR-BIO_2024.01_TSH_1.xml"


def test_ans_example_patient_is_read_from_the_record_target() -> None:
    assert read_crbio(TSH.read_bytes()).patient == DocumentPatient(
        birth_name="PAT-TROIS", first_name="DOMINIQUE", first_names=("DOMINIQUE", "MARIE-LOUISE"),
        birth_date="1979-03-28", sex="F", ins=("1.2.250.1.213.1.4.10", "279035121518989"))


def test_our_n3_of_a_provisional_identity_has_traits_but_no_ins() -> None:
    read = read_crbio(write_n3(samples.crbio_input(samples.biochemistry(), qualified=False)))
    assert read.patient is not None and read.patient.ins is None
    assert (read.patient.birth_name, read.patient.birth_date, read.patient.sex) == ("PAT-TROIS", "1979-03-28", "F")


def test_a_pdf_has_no_structured_patient() -> None:
    assert read_crbio(samples.TINY_PDF).patient is None
