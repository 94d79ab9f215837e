"""Typed E1394 (CLSI LIS2-A2) records, arranged the way the standard nests them.

A message is a header, patients, each with orders, each with results; comments hang on the record
they follow; queries sit at patient level. Sequence numbers are not stored: they follow from the
position of a record under its parent, and the writer numbers them again (1, 2, ... per level).
Only the fields a laboratory system uses are typed; a field that carries components in the
standard keeps them (names, test identifiers), a plain field keeps its first component.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Delimiters:
    """The four delimiters declared in H.2 (``H|\\^&``); CR separates records."""

    field: str = "|"
    repeat: str = "\\"
    component: str = "^"
    escape: str = "&"


@dataclass(frozen=True)
class TestId:
    """Universal test ID (O.5, R.3, Q.5): ``universal^name^type^local code^more local parts``.

    Analyzers nearly always send only the local code: ``^^^GLU``.
    """

    local_code: str
    universal_id: str = ""
    name: str = ""
    type: str = ""
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonName:
    """Patient name (P.6): ``last^first^middle^suffix^title``."""

    last: str = ""
    first: str = ""
    middle: str = ""
    suffix: str = ""
    title: str = ""


@dataclass
class Comment:
    """C record: free text attached to the record before it; source I (instrument), L (host), P."""

    text: tuple[str, ...]
    source: str = "I"
    type: str = "G"


@dataclass
class Result:
    """R record: one measured value of one test."""

    test: TestId
    value: str = ""
    value_extra: tuple[str, ...] = ()  # R.4 components 2+ (e.g. ``Negative^0.52``: interpretation^index)
    units: str = ""
    reference_range: str = ""
    abnormal_flags: str = ""
    status: str = "F"
    operator: str = ""
    started_at: datetime | None = None
    completed_at: datetime | None = None
    instrument: str = ""
    comments: list[Comment] = field(default_factory=list)


@dataclass
class Order:
    """O record: a specimen and the tests ordered on it (or run on it, when results follow)."""

    specimen_id: str = ""
    instrument_specimen_id: str = ""
    instrument_specimen_extra: tuple[str, ...] = ()  # O.4 components 2+, e.g. rack^position: echo them back
    tests: list[TestId] = field(default_factory=list)
    priority: str = "R"
    requested_at: datetime | None = None
    collected_at: datetime | None = None
    action_code: str = ""
    specimen_type: str = ""
    physician: str = ""
    report_type: str = "O"
    results: list[Result] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)


@dataclass
class Patient:
    """P record: the patient the following orders belong to."""

    practice_id: str = ""
    lab_id: str = ""
    id3: str = ""
    name: PersonName = field(default_factory=PersonName)
    birthdate: date | None = None
    sex: str = ""
    location: str = ""
    orders: list[Order] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)


@dataclass
class Query:
    """Q record: the instrument asks the host for the orders (status O) of a specimen."""

    patient_id: str = ""
    specimen_id: str = ""
    extra_ids: tuple[str, ...] = ()  # Q.3 components 3+, manufacturer-defined (sample ID, rack, position)
    tests: list[TestId] = field(default_factory=list)
    begin_at: datetime | None = None
    end_at: datetime | None = None
    status: str = "O"
    comments: list[Comment] = field(default_factory=list)


@dataclass
class OtherRecord:
    """M (manufacturer) or S (scientific) record, kept as raw fields: repeats of components."""

    type: str
    fields: tuple[tuple[tuple[str, ...], ...], ...] = ()


@dataclass
class RefusedRecord:
    """An R record that could not be read, with the reason and what is known of it."""

    diagnostics: str
    line: int
    raw: str
    specimen_id: str = ""
    patient_id: str = ""


@dataclass
class Header:
    """H record."""

    sender: tuple[str, ...] = ()
    receiver: tuple[str, ...] = ()
    message_id: str = ""
    password: str = ""
    processing_id: str = "P"
    version: str = "LIS2-A2"
    timestamp: datetime | None = None
    comments: list[Comment] = field(default_factory=list)


@dataclass
class Message:
    """One E1394 message, from its H record to its L record."""

    header: Header = field(default_factory=Header)
    patients: list[Patient] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)
    others: list[OtherRecord] = field(default_factory=list)
    termination_code: str = "N"
    delimiters: Delimiters = field(default_factory=Delimiters)
    charset: str = field(default="", compare=False)
    """How the received bytes were read (``utf-8``, ``latin-1``...); '' for a built message."""
    refused: list[RefusedRecord] = field(default_factory=list)
    """R records that could not be read (a bad time, no test code): the others are still read."""

    def results(self) -> list[tuple[Patient, Order, Result]]:
        """Every result with the order (specimen) and patient it belongs to, in message order."""
        return [(p, o, r) for p in self.patients for o in p.orders for r in o.results]
