"""The one HL7 outcome table: every exception -> AA/AE/AR, its table 0357 code and its location."""

from __future__ import annotations

import pytest

from facades.hl7v2 import (
    AckError,
    ErrorLocation,
    FrameTooLarge,
    Hl7ContentError,
    Hl7ParseError,
    PartlyProcessed,
    UnsupportedMessage,
    ack_error,
    at,
    decide,
)
from resources.errors import Conflict, NotFound, RuleViolation, Unavailable, WriteConflict

OBX5 = ErrorLocation("OBX", 2, 5)


@pytest.mark.parametrize(("error", "ack", "code", "where"), [
    (Hl7ParseError("unreadable", OBX5, code=102), "AR", 102, "OBX[2]-5"),
    (FrameTooLarge(10, 5, b"MSH|"), "AR", 102, "MSH[1]"),
    (UnsupportedMessage("SIU^S12 is not handled", code=200), "AR", 200, "MSH[1]-9"),
    (Hl7ContentError("no such exam", ErrorLocation("OBR", 1, 4), code=103), "AE", 103, "OBR[1]-4"),
    (NotFound("no patient with that IPP", expression=["MRG[1]-1"]), "AE", 204, "MRG[1]-1"),
    (Conflict("IPP held by another patient"), "AE", 205, None),
    (WriteConflict("a concurrent transaction changed the same data; retry"), "AE", 206, None),
    (Unavailable("database down"), "AE", 207, None),
    (TimeoutError("message not processed within 5s"), "AE", 207, None),
    (RuntimeError(), "AE", 207, None),
])
def test_each_kind_of_failure_gets_its_ack_code_err_code_and_location(error, ack, code, where) -> None:
    decision = decide(error)
    [err] = decision.errors
    assert (decision.code, err.code, err.severity) == (ack, code, "E")
    assert (err.location.expression() if err.location else None) == where
    assert err.message == (getattr(error, "diagnostics", None) or str(error) or type(error).__name__)


def test_a_rule_raised_in_fhir_terms_is_answered_at_the_pinned_hl7_spot() -> None:
    rule = RuleViolation("SGL.INS.08", "wrong INS key", expression=["Patient.identifier"])
    err = ack_error(at(rule, ErrorLocation("PID", 1, 3, 2, 1)))
    assert err.code == 207 and err.location == ErrorLocation("PID", 1, 3, 2, 1)


def test_partly_processed_is_ae_with_one_err_per_problem_then_the_warnings() -> None:
    problems = [AckError(f"OBX {n} refused", 102, "E", ErrorLocation("OBX", n, 5)) for n in (3, 7)]
    warning = AckError("stored on the worklist", 204, "W", ErrorLocation("OBX", 1))
    decision = decide(PartlyProcessed(problems, [warning], ["Observation/1"]))
    assert decision.code == "AE" and decision.errors == (*problems, warning)
    assert decision.produced == ("Observation/1",)
