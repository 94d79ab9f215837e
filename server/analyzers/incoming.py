"""One analyzer result in a protocol-neutral form, and the key that makes its storage idempotent.

HL7 (``facades.hl7v2.results.LabResult``) and ASTM (``facades.astm.Result``) results are turned
into ``IncomingResult`` by their handlers; matching and storing do not care where they came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

RESULT_ID_SYSTEM = "https://opensgl.org/fhir/sid/resultat-automate"
_COMPARATOR = re.compile(r"^\s*(<=|>=|<|>)\s*(.*)$")


@dataclass(frozen=True)
class IncomingResult:
    analyzer: str
    specimen_id: str
    test_code: str
    value: str
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

    @property
    def key(self) -> str:
        """analyzer/specimen/test/run time, each part percent-encoded: equal only for the same run.

        An analyzer resending after a lost ACK sends the same four values, so the second copy finds
        the first by this identifier; a rerun (later run time) or a dilution run is a new key.
        """
        run = re.sub(r"[^0-9]", "", self.run_at)
        return "/".join(quote(p, safe="-._~:") for p in (self.analyzer, self.specimen_id, self.test_code, run))


def split_comparator(value: str) -> tuple[str, str]:
    """``"<0.5"`` -> ``("<", "0.5")`` (ASTM puts the comparator in the value)."""
    match = _COMPARATOR.match(value)
    return (match.group(1), match.group(2).strip()) if match else ("", value.strip())
