"""Host query of IHE LAW (LAB-27): QBP^Q11 "work order step" in, RSP^K11 with the work order out.

The analyzer asks which tests to run on a tube (``QPD-3``: the specimen id, an EIP); the host
answers ``MSH MSA QAK QPD`` and, when it knows the tube, ``PID SPM`` then one ``ORC OBR`` per test
(``QAK-2`` OK), else no group at all (``QAK-2`` NF). Pure: building and reading, no I/O.
"""

from __future__ import annotations

from datetime import datetime

from facades.hl7v2.ack import new_control_id
from facades.hl7v2.errors import REQUIRED_FIELD_MISSING, UNSUPPORTED_MESSAGE_TYPE, ErrorLocation, Hl7ParseError
from facades.hl7v2.escape import EncodingChars
from facades.hl7v2.message import Field, Hl7Message, Segment
from facades.hl7v2.results.model import OrderQuery, SpecimenOrder
from facades.hl7v2.timestamps import hl7_timestamp


def parse_order_query(message: Hl7Message) -> OrderQuery:
    """The specimen a QBP^Q11 asks about; ``Hl7ParseError`` when QPD or its specimen id is missing."""
    if (message.message_type, message.trigger_event) != ("QBP", "Q11"):
        raise Hl7ParseError(f"{message.message_type}^{message.trigger_event} is not a QBP^Q11 query",
                            ErrorLocation("MSH", 1, 9), code=UNSUPPORTED_MESSAGE_TYPE)
    qpd = message.segment("QPD")
    if qpd is None:
        raise Hl7ParseError("QBP^Q11 without a QPD segment", ErrorLocation("QPD", 1), code=REQUIRED_FIELD_MISSING)
    specimen = (qpd.get("3.1.1") or qpd.get("3.2.1")).strip()
    if not specimen:
        raise Hl7ParseError("QPD-3 (specimen id) is empty", ErrorLocation("QPD", 1, 3), code=REQUIRED_FIELD_MISSING)
    name = (qpd.get("1.1"), qpd.get("1.2"), qpd.get("1.3"))
    return OrderQuery(control_id=message.control_id, query_tag=qpd.get("2"), specimen_id=specimen,
                      analyzer=message.msh.get("3.1"), query_name=name)


def build_order_response(query: Hl7Message, order: SpecimenOrder | None, *, control_id: str | None = None,
                         now: datetime | None = None) -> Hl7Message:
    """The RSP^K11 answering ``query``: the tests of ``order``, or QAK-2 NF when the tube is unknown."""
    enc = query.enc
    received = query.msh
    msh = Segment("MSH", enc=enc)
    for target, source in ((3, 5), (4, 6), (5, 3), (6, 4)):
        msh.set(target, received.field(source))
    msh.set(7, hl7_timestamp(now))
    msh.set(9, Field.of("RSP", "K11", "RSP_K11", enc=enc))
    msh.set(10, control_id or new_control_id())
    msh.set(11, received.field(11) if received.get("11") else "P")
    msh.set(12, received.field(12) if received.get("12") else "2.5.1")
    if received.get("18"):
        msh.set(18, received.field(18))
    msa = Segment("MSA", enc=enc)
    msa.set(1, "AA")
    msa.set(2, received.field(10))
    qpd = query.segment("QPD") or Segment("QPD", enc=enc)
    qak = Segment("QAK", enc=enc)
    qak.set(1, qpd.field(2))
    qak.set(2, "OK" if order is not None and order.tests else "NF")
    qak.set(3, qpd.field(1))
    segments = [msh, msa, qak, qpd]
    if order is not None and order.tests:
        segments += _work_order(order, enc)
    return Hl7Message(segments, enc)


def _work_order(order: SpecimenOrder, enc: EncodingChars) -> list[Segment]:
    pid = Segment("PID", enc=enc)
    pid.set(1, "1")
    pid.set(3, order.patient_id)
    pid.set(5, Field.of(order.family, order.given, enc=enc))
    pid.set(7, order.birth_date)
    pid.set(8, order.sex)
    spm = Segment("SPM", enc=enc)
    spm.set(1, "1")
    spm.set(2, Field.of([order.specimen_id], enc=enc))
    spm.set(17, order.collected_at)
    out = [pid, spm]
    for n, test in enumerate(order.tests, 1):
        orc = Segment("ORC", enc=enc)
        orc.set(1, "NW")
        orc.set(2, order.order_number)
        obr = Segment("OBR", enc=enc)
        obr.set(1, str(n))
        obr.set(2, order.order_number)
        obr.set(4, Field.of(test.code, test.name, "99LAB", enc=enc))
        out += [orc, obr]
    return out
