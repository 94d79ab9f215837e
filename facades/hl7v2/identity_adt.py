"""Outbound PAM-FR identity messages (IHE ITI-30, PAM-FR 2.11) telling a hospital EHR that a patient it holds
data of has changed: SGL.INS.34 / SGL.INS.36 ("... and propagates the change").

    ADT^A31^ADT_A05   MSH EVN PID PV1          an identity update (status raised or lowered, trait corrected)
    ADT^A40^ADT_A39   MSH EVN PID MRG          the patient of MRG-1 merged into the patient of PID-3

The PID is ``pid.py``'s, as in every outbound message: the INS in PID-3 only for a qualified identity (with
its ``ASIP-SANTE-INS-NIR&<OID>&ISO`` authority and type ``INS``, SGL.INS.37 / INS.56), PID-32 the reliability.
MRG-1 lists the merged patient's identifiers by the same rule. PV1-2 is ``N`` (not applicable) because an
identity message carries no stay. MSH-12 / MSH-21 are PAM-FR's (``2.5^FRA^2.11``,
``2.11^IHE_FRANCE-2.11-PAM``), MSH-10 the caller's stable control id (a resend after a crash keeps it).
Pure: FHIR dicts in, an ``Hl7Message`` out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from facades.hl7v2.message import Hl7Message, Segment
from facades.hl7v2.outbound import OruParties, outbound_msh
from facades.hl7v2.pid import build_pid, patient_identifiers
from facades.hl7v2.timestamps import hl7_timestamp

PAM_FR_VERSION = ("2.5", "FRA", "2.11")
PAM_FR_PROFILE = ("2.11", "IHE_FRANCE-2.11-PAM")
STRUCTURES = {"A31": "ADT_A05", "A40": "ADT_A39"}
IdentityEvent = Literal["A31", "A40"]


def build_identity_adt(*, parties: OruParties, control_id: str, event: IdentityEvent, patient: dict[str, Any],
                       merged: dict[str, Any] | None = None, when: datetime | None = None) -> Hl7Message:
    """The ADT^A31 of ``patient``, or the ADT^A40 merging ``merged`` into ``patient``.

    Raises ``InvalidInput`` (from ``pid.py``) when a patient has neither an IPP of the receiver's authority nor a
    qualified INS to name it by: such a message could not be matched by the receiver."""
    if event not in STRUCTURES:
        raise ValueError(f"identity event {event!r}: A31 or A40")
    if (event == "A40") != (merged is not None):
        raise ValueError("an A40 needs the merged patient, an A31 none")
    stamp = hl7_timestamp(when)
    evn = Segment("EVN")
    evn.set(2, stamp)
    evn.set(6, stamp)
    segments = [outbound_msh(parties, control_id, ("ADT", event, STRUCTURES[event]), PAM_FR_VERSION,
                             PAM_FR_PROFILE), evn, build_pid(patient, ipp_authority=parties.ipp_authority)]
    if merged is not None:
        mrg = Segment("MRG")
        mrg.set(1, patient_identifiers(merged, parties.ipp_authority))
        segments.append(mrg)
    else:
        pv1 = Segment("PV1")
        pv1.set(1, "1")
        pv1.set(2, "N")
        segments.append(pv1)
    return Hl7Message(segments)
