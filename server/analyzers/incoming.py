"""One analyzer result in a protocol-neutral form, its idempotency key and its value fingerprint.

HL7 (``facades.hl7v2.results.LabResult``) and ASTM (``facades.astm.Result``) results are turned
into ``IncomingResult`` by their handlers; matching and storing do not care where they came from.
A result the facade could not read is a ``RefusedIncoming``: it goes to the worklist, never silently.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from urllib.parse import quote

RESULT_ID_SYSTEM = "https://opensgl.org/fhir/sid/resultat-automate"
_COMPARATOR = re.compile(r"^\s*(<=|>=|<|>)\s*(.*)$")

Coding = tuple[str, str, str]
"""(FHIR system URI, or the analyzer's own system name prefixed ``local:``; code; display)."""


@dataclass(frozen=True)
class PatientHint:
    """What the message says of the patient (HL7 PID, ASTM P): used to name it on the worklist."""

    identifiers: tuple[str, ...] = ()
    name: str = ""


def result_key(analyzer: str, specimen_id: str, test_code: str, run_at: str, sub_id: str = "",
               run_id: str = "") -> str:
    """analyzer/tube/test/run[/sub-id], each part percent-encoded: equal only for the same measurement.

    An analyzer resending after a lost ACK sends the same values, so the second copy finds the first
    by this key; a rerun (later run time), a dilution run or another OBX-4 sub-id is another key.
    The run is its time's digits, or ``message-<run_id>`` when the instrument gave no run time (see
    ``IncomingResult.run_id``).
    """
    run = f"message-{run_id}" if run_id else re.sub(r"[^0-9]", "", run_at)
    parts = [analyzer, specimen_id, test_code, run] + ([sub_id] if sub_id else [])
    return "/".join(quote(p, safe="-._~:") for p in parts)


@dataclass(frozen=True)
class IncomingResult:
    analyzer: str
    specimen_id: str
    test_code: str
    value: str
    """The value as text: the number, the string, the FHIR time/dateTime, the coded value's text."""
    run_at: str
    """When the analyzer produced the value (FHIR dateTime): part of the identity of a run."""
    source: str
    """Where in the message it was read (``ORU^R01 M1 OBX[2]``, ``ASTM R record 3``), for people and logs."""
    test_name: str = ""
    comparator: str = ""
    units: str = ""
    reference_range: str = ""
    flags: tuple[str, ...] = ()
    instrument_status: str = ""
    sub_id: str = ""
    """OBX-4 / the ASTM test id's extra parts: tells apart repeated results of one test in one run."""
    kind: str = ""
    """How to store the value: quantity, range, ratio, coded, time, dateTime, string; '' = a number
    becomes a quantity, anything else a string (ASTM, which does not type its values)."""
    high: str = ""
    """The upper bound of a range, the denominator of a ratio."""
    codings: tuple[Coding, ...] = ()
    """The codings of a coded value."""
    test_system: str = ""
    """The FHIR system of ``test_code`` when the instrument named a known one (OBX-3.3 ``LN``)."""
    value_type: str = ""
    """OBX-2 as received (NM, ST, CWE...), kept for the record."""
    patient: PatientHint | None = None
    run_id: str = ""
    """What names the run when the instrument gave no run time (HL7: no OBX-14, OBX-19 nor OBR-7; ASTM: no R.12
    nor R.13): the message's own id (MSH-10, ASTM H.3 when sent), since ``run_at`` is then the header's time,
    which a sender resending after a lost ACK stamps anew (the copy was stored as a second run 30 s later) while
    two messages sent in one second are two runs. Empty when ``run_at`` is the instrument's."""
    comments: tuple[str, ...] = ()
    """The instrument's comments on this result (HL7 NTE after the OBX, ASTM C records after the R): "hemolysed",
    "clot detected", "result after dilution". Kept as Observation.note; not part of the fingerprint (a resend
    is decided on the value)."""

    @property
    def key(self) -> str:
        return result_key(self.analyzer, self.specimen_id, self.test_code, self.run_at, self.sub_id, self.run_id)

    @property
    def fingerprint(self) -> str:
        """What makes two receptions of one key the same result: the value, its unit and the
        instrument's status (a correction, OBX-11 = C, differs from the final value it corrects)."""
        parts = [self.kind, self.value, self.comparator, self.high, self.units, list(self.codings),
                 self.instrument_status == "C"]
        return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RefusedIncoming:
    """A result that cannot be stored as sent: the reason, and what could still be read of it."""

    analyzer: str
    specimen_id: str
    test_code: str
    sub_id: str
    reason: str
    raw: str
    source: str
    patient: PatientHint | None = None

    @property
    def key(self) -> str:
        """Its worklist entry's key: a resend of the same refused record finds the Task already there."""
        digest = hashlib.sha256(self.raw.encode()).hexdigest()[:16]
        return f"refused/{result_key(self.analyzer, self.specimen_id, self.test_code, '', self.sub_id)}/{digest}"


def split_comparator(value: str) -> tuple[str, str]:
    """``"<0.5"`` -> ``("<", "0.5")`` (ASTM puts the comparator in the value)."""
    match = _COMPARATOR.match(value)
    return (match.group(1), match.group(2).strip()) if match else ("", value.strip())
