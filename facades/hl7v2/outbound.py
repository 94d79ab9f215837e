"""What every message the lab sends to a hospital EHR shares: who sends to whom, and the MSH built from it.

One MSH writer for the CR-Bio ORU^R01 (``crbio_oru.py``) and the PAM-FR identity messages
(``identity_adt.py``), so both name the lab, the partner, the character set and the control id the same way;
only the message type, the version field and the profile of MSH-21 differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from facades.hl7v2.message import Field, Segment
from facades.hl7v2.pid import AssigningAuthority
from facades.hl7v2.timestamps import hl7_timestamp


@dataclass(frozen=True)
class OruParties:
    """Sender and receiver of an outbound message, and the authority of the IPP the receiver knows."""

    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    ipp_authority: AssigningAuthority


def outbound_msh(parties: OruParties, control_id: str, message_type: Sequence[str], version: str | Sequence[str],
                 profile: Sequence[str]) -> Segment:
    """The MSH: MSH-9 ``message_type`` (code, event, structure), MSH-10 the caller's stable control id,
    MSH-12 ``version`` (``2.5``, or ``2.5^FRA^2.11`` for PAM-FR), MSH-21 ``profile``; UTF-8, French."""
    msh = Segment("MSH")
    msh.set(3, parties.sending_application)
    msh.set(4, parties.sending_facility)
    msh.set(5, parties.receiving_application)
    msh.set(6, parties.receiving_facility)
    msh.set(7, hl7_timestamp())
    msh.set(9, Field.of(*message_type))
    msh.set(10, control_id)
    msh.set(11, "P")
    msh.set(12, version if isinstance(version, str) else Field.of(*version))
    msh.set(17, "FRA")
    msh.set(18, "UNICODE UTF-8")
    msh.set(21, Field.of(*profile))
    return msh
