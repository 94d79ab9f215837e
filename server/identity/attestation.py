"""What an identity operation vouches for while it writes a Patient through the write rules.

A status may rise only from an INSi answer (RECUP, SGL.INS.23) or a justificatif checked by a user
(VALI, SGL.INS.20/24), or both (QUAL, SGL.INS.25). A client PUT cannot prove either, so the
operations that do (``$insi-search``, ``$validate-identity``, ``$receive-identity``) hand the
interactions their write rule stamped with the attestation (``WriteIntent.attestation``, see
``resources.interactions.stamped``); the Patient write rule accepts the rise only when the attested
patient, status and INS are exactly what is being written.
"""

from __future__ import annotations

from dataclasses import dataclass

from resources.interactions import WriteIntent


@dataclass(frozen=True)
class Attestation:
    patient_id: str | None
    """None for an identity the operation creates."""
    status: str
    """The status the operation computed (RECUP/QUAL after INSi, VALI/QUAL after a justificatif)."""
    reason: str
    """Why, for the status history: the INSi answer or the justificatif."""
    ins: str = ""
    """``system|value`` of the INS written from the INSi answer (empty for a justificatif)."""


def attestation_for(intent: WriteIntent, patient_id: str | None) -> Attestation | None:
    """The identity attestation the write carries for this patient, if any (any other kind is ignored)."""
    found = intent.attestation
    return found if isinstance(found, Attestation) and found.patient_id == patient_id else None
