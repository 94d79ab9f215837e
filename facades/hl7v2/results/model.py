"""Typed lab results and order queries read from analyzer messages (ORU^R01, OUL^R22, QBP^Q11).

Only what a laboratory system needs to match a result to its specimen, order and catalogue entry;
the raw message stays in the inbound journal. Each result keeps the ``ErrorLocation`` of its OBX so
that a problem found later (by the server) can still name the segment in the NACK.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from facades.hl7v2.location import ErrorLocation
from facades.hl7v2.results.values import Coding, TypedValue


@dataclass(frozen=True)
class LabResult:
    """One OBX: the value an analyzer measured for one test on one specimen."""

    specimen_id: str
    """The tube's barcode (accession number): SPM-2, else SAC-3, else OBR-3, else OBR-2."""
    analyzer: str
    """The instrument: OBX-18 (equipment instance), else MSH-3 (sending application)."""
    test_code: str
    """OBX-3.1, the instrument's own test code (OBX-3.4, the alternate identifier, when 3.1 is empty)."""
    test_name: str = ""
    test_coding: Coding | None = None
    """The test code with its coding system (OBX-3.3 / 3.6): ``LN`` means it is a LOINC code."""
    sub_id: str = ""
    """OBX-4, which tells apart repeated OBX-3 (else ``#n`` for the n-th repeat of a code on a tube)."""
    value_type: str = ""
    """OBX-2: NM, SN, ST, TX, CWE/CE..."""
    value: str = ""
    """OBX-5 as text: the number, the string, the coded value's text; the low end / numerator of an
    SN range / ratio (``typed.high`` holds the other)."""
    typed: TypedValue = field(default_factory=lambda: TypedValue(""))
    """OBX-5 read as OBX-2 says (``values.typed_value``)."""
    comparator: str = ""
    """``<``, ``<=``, ``>``, ``>=`` from a structured numeric (SN) value."""
    units: str = ""
    reference_range: str = ""
    flags: tuple[str, ...] = ()
    """OBX-8 abnormal flags, as received (the validation workflow computes its own)."""
    status: str = ""
    """OBX-11: F final, P preliminary, C correction, R not verified..."""
    observed_at: str = ""
    """OBX-14 (or OBR-7), as a FHIR dateTime."""
    analyzed_at: str = ""
    """OBX-19 (the run time), as a FHIR dateTime."""
    location: ErrorLocation = field(default_factory=lambda: ErrorLocation("OBX"))
    patient: PatientIds | None = None
    """The PID of the result's group, when the message has one."""
    comments: tuple[str, ...] = ()
    """NTE-3 of the NTE segments right after the OBX (the instrument's remarks on this result), decoded."""


@dataclass(frozen=True)
class PatientIds:
    """What a PID says of the patient: identifiers (PID-3 ``(value, assigning authority, type)``), name."""

    identifiers: tuple[tuple[str, str, str], ...] = ()
    family: str = ""
    given: str = ""
    birth_date: str = ""


@dataclass(frozen=True)
class RefusedResult:
    """An OBX that cannot be stored as sent (OBX-5 not of its OBX-2 type, no test code, no specimen):
    the reason and what could still be read, for the worklist and the ERR of the AE."""

    diagnostics: str
    code: int
    location: ErrorLocation
    specimen_id: str
    analyzer: str
    test_code: str
    sub_id: str
    raw: str
    """The whole OBX segment as received."""
    patient: PatientIds | None = None


@dataclass(frozen=True)
class ResultMessage:
    """The results of one ORU^R01/R30/R32 or OUL^R22/R23/R24, in message order, and the OBX refused."""

    control_id: str
    sending_application: str
    sent_at: str
    """MSH-7 as a FHIR dateTime: the fallback run time of results that carry none."""
    results: tuple[LabResult, ...]
    refused: tuple[RefusedResult, ...] = ()


@dataclass(frozen=True)
class OrderQuery:
    """A QBP^Q11 "work order step" query (IHE LAW): which tests to run on this specimen?"""

    control_id: str
    query_tag: str
    specimen_id: str
    analyzer: str
    query_name: tuple[str, str, str] = ("WOS", "Work Order Step", "IHE_LABTF")


@dataclass(frozen=True)
class OrderedTest:
    """One test to run, as the host answers it: instrument code and label."""

    code: str
    name: str = ""


@dataclass(frozen=True)
class SpecimenOrder:
    """What the host knows of a specimen: its tests, the patient and when it was collected."""

    specimen_id: str
    tests: tuple[OrderedTest, ...]
    order_number: str = ""
    patient_id: str = ""
    family: str = ""
    given: str = ""
    birth_date: str = ""
    """HL7 DTM, e.g. ``19790312``."""
    sex: str = ""
    """HL7 table 0001: F, M, U..."""
    collected_at: str = ""
    """HL7 DTM."""
