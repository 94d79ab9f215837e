"""Parse an E1394 message into typed records, and build one back (order download, query answers).

Field numbers follow CLSI LIS2-A2, counting the record type as field 1 (``R.4`` is the value).
Errors name the record type, its line in the message (1-based, one record per line) and the field.
An R record that cannot be read does not refuse the message: it lands in ``Message.refused`` with
its reason and text, and the other records are read on (the host keeps it on its worklist); so does an R
record with an empty value (R.4) and a final or corrected status (R.9 F or C).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from facades.astm.codec import (
    Field,
    format_timestamp,
    join_record,
    parse_date,
    parse_timestamp,
    read_delimiters,
    split_record,
)
from facades.astm.errors import AstmRecordError
from facades.astm.model import (
    Comment,
    Delimiters,
    Header,
    Message,
    Order,
    OtherRecord,
    Patient,
    PersonName,
    Query,
    RefusedRecord,
    Result,
    TestId,
)

log = logging.getLogger(__name__)

_RECORD_SEPARATOR = re.compile(r"\r\n|\r|\n")
Commentable = Header | Patient | Order | Result | Query


class _Raw:
    """One split record with typed accessors that know where they are, for error messages."""

    def __init__(self, fields: list[Field], line: int, text: str = "") -> None:
        self.fields = fields
        self.line = line
        self.type = fields[0][0][0]
        self.text_as_received = text

    def repeats(self, n: int) -> tuple[tuple[str, ...], ...]:
        if n > len(self.fields):
            return ()
        return tuple(rep for rep in self.fields[n - 1] if any(rep))

    def comps(self, n: int) -> tuple[str, ...]:
        if n > len(self.fields):
            return ()
        field = self.fields[n - 1]
        if len(field) == 1:  # the common case: no repeats
            return field[0] if any(field[0]) else ()
        return next((rep for rep in field if any(rep)), ())

    def text(self, n: int) -> str:
        comps = self.comps(n)
        return comps[0] if comps else ""

    def stamp(self, n: int) -> datetime | None:
        return parse_timestamp(self.text(n), record_type=self.type, line=self.line, field=n)

    def error(self, diagnostics: str, n: int | None = None) -> AstmRecordError:
        return AstmRecordError(diagnostics, record_type=self.type, line=self.line, field=n)

    def check_sequence(self, expected: int) -> None:
        seq = self.text(2)
        if seq and not seq.isdigit():
            raise self.error(f"sequence number {seq!r} is not a number", 2)
        if seq and int(seq) != expected:
            log.warning("ASTM %s record at line %d has sequence number %s, expected %d",
                        self.type, self.line, seq, expected)


def _test_id(comps: tuple[str, ...]) -> TestId:
    c = comps + ("",) * (4 - len(comps))
    return TestId(local_code=c[3], universal_id=c[0], name=c[1], type=c[2], extra=comps[4:])


def _tests(raw: _Raw, n: int) -> list[TestId]:
    return [_test_id(rep) for rep in raw.repeats(n)]


def _header(raw: _Raw) -> Header:
    return Header(message_id=raw.text(3), password=raw.text(4), sender=raw.comps(5), receiver=raw.comps(10),
                  processing_id=raw.text(12), version=raw.text(13), timestamp=raw.stamp(14))


def _patient(raw: _Raw) -> Patient:
    name = raw.comps(6) + ("",) * 5
    return Patient(practice_id=raw.text(3), lab_id=raw.text(4), id3=raw.text(5),
                   name=PersonName(*name[:5]),
                   birthdate=parse_date(raw.text(8), record_type="P", line=raw.line, field=8),
                   sex=raw.text(9), location=raw.text(26))


def _order(raw: _Raw) -> Order:
    instrument = raw.comps(4) or ("",)
    return Order(specimen_id=raw.text(3), instrument_specimen_id=instrument[0],
                 instrument_specimen_extra=instrument[1:], tests=_tests(raw, 5),
                 priority=raw.text(6), requested_at=raw.stamp(7), collected_at=raw.stamp(8),
                 action_code=raw.text(12), specimen_type=raw.text(16), physician=raw.text(17),
                 report_type=raw.text(26))


def _units(raw: _Raw, d: Delimiters) -> str:
    """R.5 has no components in LIS2-A2: a component separator in it is part of the unit (``10^3/µL``
    sent unescaped), so the field is read back whole."""
    return d.component.join(raw.comps(5))


FINAL_STATUSES = frozenset({"F", "C"})
"""R.9 values (LIS2-A2: final, correction) that say the result is complete, so an empty R.4 is refused: stored,
it would look like a value still to come (X says the test cannot be done and is kept, with its reason)."""


def _result(raw: _Raw, d: Delimiters) -> Result:
    test = _test_id(raw.comps(3))
    if not (test.local_code or test.universal_id or test.extra and test.extra[0]):
        raise raw.error("the universal test ID is empty: which test does this result belong to?", 3)
    values = [rep for rep in raw.fields[3] if any(rep)] if len(raw.fields) > 3 else []
    if len(values) > 1:  # a result is one value: reading the first repetition would drop the others after an ACK
        raise raw.error(f"the data value (R.4) holds {len(values)} repeats; send one R record per value", 4)
    value = raw.comps(4) or ("",)
    status = raw.text(9)
    if not values and status.strip().upper() in FINAL_STATUSES:
        raise raw.error(f"the data value (R.4) is empty while the result status (R.9) {status} says the result is "
                        "complete: a result without a value is not stored (send X when it cannot be done)", 4)
    flags = [rep[0] for rep in raw.fields[6] if rep and rep[0]] if len(raw.fields) > 6 else []
    return Result(test=test, value=value[0], value_extra=value[1:], units=_units(raw, d),
                  reference_range=raw.text(6),
                  abnormal_flags=d.repeat.join(flags), status=status, operator=raw.text(11),
                  started_at=raw.stamp(12), completed_at=raw.stamp(13), instrument=raw.text(14))


def _query(raw: _Raw) -> Query:
    ids = raw.comps(3)
    padded = ids + ("", "")
    return Query(patient_id=padded[0], specimen_id=padded[1], extra_ids=ids[2:], tests=_tests(raw, 5),
                 begin_at=raw.stamp(7), end_at=raw.stamp(8), status=raw.text(13))


def _comment(raw: _Raw) -> Comment:
    return Comment(text=raw.comps(4), source=raw.text(3), type=raw.text(5))


class _Reader:
    """Walks the records in order and hangs each one under its parent."""

    def __init__(self, header: Header) -> None:
        self.message = Message(header=header)
        self.patient: Patient | None = None
        self.order: Order | None = None
        self.last: Commentable = header
        self.ended = False
        self.r_seen = 0

    def add(self, raw: _Raw) -> None:
        if self.ended:
            raise raw.error("record after the L terminator record")
        handler = self._handlers().get(raw.type)
        if handler is None:
            raise raw.error(f"unknown record type {raw.type!r} (expected H, P, O, R, C, Q, M, S or L)", 1)
        handler(raw)

    def _handlers(self) -> dict[str, Callable[[_Raw], None]]:
        return {"H": self._h, "P": self._p, "O": self._o, "R": self._r, "C": self._c, "Q": self._q,
                "M": self._other, "S": self._other, "L": self._l}

    def _h(self, raw: _Raw) -> None:
        raise raw.error("a second H record: one message runs from one H record to its L record")

    def _p(self, raw: _Raw) -> None:
        raw.check_sequence(len(self.message.patients) + 1)
        self.patient = _patient(raw)
        self.order = None
        self.message.patients.append(self.patient)
        self.last = self.patient

    def _o(self, raw: _Raw) -> None:
        if self.patient is None:
            raise raw.error("O record without a preceding P record")
        raw.check_sequence(len(self.patient.orders) + 1)
        self.order = _order(raw)
        self.r_seen = 0
        self.patient.orders.append(self.order)
        self.last = self.order

    def _r(self, raw: _Raw) -> None:
        if self.order is None:
            raise raw.error("R record without a preceding O record")
        self.r_seen += 1
        raw.check_sequence(self.r_seen)
        try:
            result = _result(raw, self.message.delimiters)
        except AstmRecordError as exc:  # this record only: the others are still read
            log.warning("ASTM %s", exc.diagnostics)
            patient = self.patient.practice_id or self.patient.lab_id if self.patient is not None else ""
            self.message.refused.append(RefusedRecord(exc.diagnostics, raw.line, raw.text_as_received,
                                                      self.order.specimen_id or self.order.instrument_specimen_id,
                                                      patient))
            return
        self.order.results.append(result)
        self.last = result

    def _c(self, raw: _Raw) -> None:
        raw.check_sequence(len(self.last.comments) + 1)
        self.last.comments.append(_comment(raw))

    def _q(self, raw: _Raw) -> None:
        raw.check_sequence(len(self.message.queries) + 1)
        query = _query(raw)
        self.message.queries.append(query)
        self.patient = self.order = None
        self.last = query

    def _other(self, raw: _Raw) -> None:
        self.message.others.append(OtherRecord(type=raw.type, fields=tuple(raw.fields[1:])))

    def _l(self, raw: _Raw) -> None:
        raw.check_sequence(1)
        self.message.termination_code = raw.text(3) or "N"
        self.ended = True


def parse_message(text: str) -> Message:
    """Parse one message (H ... L), records separated by CR (CR LF and LF are tolerated)."""
    lines = [(n, rec) for n, rec in enumerate(_RECORD_SEPARATOR.split(text), start=1) if rec.strip()]
    if not lines:
        raise AstmRecordError("the message is empty", record_type="H", line=1)
    first_line, first = lines[0]
    d = read_delimiters(first, line=first_line)
    reader = _Reader(_header(_Raw(split_record(first, d), first_line)))
    reader.message.delimiters = d
    for line, rec in lines[1:]:
        fields = split_record(rec, d)
        if not fields[0][0][0]:
            raise AstmRecordError("the record type (field 1) is empty", record_type="?", line=line, field=1)
        reader.add(_Raw(fields, line, rec))
    if not reader.ended:
        raise AstmRecordError("the message has no L terminator record", record_type="L",
                              line=lines[-1][0] + 1)
    return reader.message


# -- building -----------------------------------------------------------------------------------------


def _f(*components: str) -> Field:
    return (tuple(components),)


def _test_field(tests: list[TestId]) -> Field:
    return tuple((t.universal_id, t.name, t.type, t.local_code, *t.extra) for t in tests) or (("",),)


def _header_fields(h: Header, d: Delimiters) -> list[Field]:
    declared = f"{d.repeat}{d.component}{d.escape}"
    return [_f("H"), _f(declared), _f(h.message_id), _f(h.password), (h.sender or ("",),), _f(""), _f(""),
            _f(""), _f(""), (h.receiver or ("",),), _f(""), _f(h.processing_id), _f(h.version),
            _f(format_timestamp(h.timestamp))]


def _patient_fields(p: Patient, seq: int) -> list[Field]:
    n = p.name
    name = (n.last, n.first, n.middle, n.suffix, n.title)
    fields = [_f("P"), _f(str(seq)), _f(p.practice_id), _f(p.lab_id), _f(p.id3), (name,), _f(""),
              _f(format_timestamp(p.birthdate)), _f(p.sex)]
    if p.location:
        fields += [_f("")] * 16 + [_f(p.location)]
    return fields


def _order_fields(o: Order, seq: int) -> list[Field]:
    instrument = _f(o.instrument_specimen_id, *o.instrument_specimen_extra)
    return [_f("O"), _f(str(seq)), _f(o.specimen_id), instrument, _test_field(o.tests),
            _f(o.priority), _f(format_timestamp(o.requested_at)), _f(format_timestamp(o.collected_at)),
            _f(""), _f(""), _f(""), _f(o.action_code), _f(""), _f(""), _f(""), _f(o.specimen_type),
            _f(o.physician), *[_f("")] * 8, _f(o.report_type)]


def _result_fields(r: Result, seq: int) -> list[Field]:
    return [_f("R"), _f(str(seq)), _test_field([r.test]), _f(r.value, *r.value_extra), _f(r.units),
            _f(r.reference_range), _f(r.abnormal_flags), _f(""), _f(r.status), _f(""), _f(r.operator),
            _f(format_timestamp(r.started_at)), _f(format_timestamp(r.completed_at)), _f(r.instrument)]


def _query_fields(q: Query, seq: int) -> list[Field]:
    ids = _f(q.patient_id, q.specimen_id, *q.extra_ids)
    return [_f("Q"), _f(str(seq)), ids, _f(""), _test_field(q.tests), _f(""),
            _f(format_timestamp(q.begin_at)), _f(format_timestamp(q.end_at)), *[_f("")] * 4, _f(q.status)]


def _comment_records(owner: Commentable) -> list[list[Field]]:
    return [[_f("C"), _f(str(i)), _f(c.source), (c.text,), _f(c.type)]
            for i, c in enumerate(owner.comments, start=1)]


def message_records(message: Message) -> list[list[Field]]:
    """The message as raw records in transmission order, sequence numbers assigned per level."""
    d = message.delimiters
    out = [_header_fields(message.header, d), *_comment_records(message.header)]
    for p_seq, patient in enumerate(message.patients, start=1):
        out += [_patient_fields(patient, p_seq), *_comment_records(patient)]
        for o_seq, order in enumerate(patient.orders, start=1):
            out += [_order_fields(order, o_seq), *_comment_records(order)]
            for r_seq, result in enumerate(order.results, start=1):
                out += [_result_fields(result, r_seq), *_comment_records(result)]
    for q_seq, query in enumerate(message.queries, start=1):
        out += [_query_fields(query, q_seq), *_comment_records(query)]
    out += [[_f(other.type), *other.fields] for other in message.others]
    out.append([_f("L"), _f("1"), _f(message.termination_code)])
    return out


def build_message(message: Message) -> str:
    """The message text, one record per CR-terminated line, delimiters escaped in values."""
    d = message.delimiters
    lines: list[str] = []
    for line, fields in enumerate(message_records(message), start=1):
        lines.append(join_record(fields, d, record_type=fields[0][0][0], line=line))
    return "\r".join(lines) + "\r"
