"""What an identity operation vouches for while it writes a Patient through the write rules.

A status may rise only from an INSi answer (RECUP, SGL.INS.23) or a justificatif checked by a user
(VALI, SGL.INS.20/24), or both (QUAL, SGL.INS.25). A client PUT cannot prove either, so the
operations that do (``$insi-search``, ``$validate-identity``) declare it in a context variable
scoped to their own task; the Patient write rule accepts the rise only when the attested patient, status and
INS are exactly what is being written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


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


_current: ContextVar[Attestation | None] = ContextVar("identity_attestation", default=None)


@contextmanager
def attesting(attestation: Attestation) -> Iterator[None]:
    token = _current.set(attestation)
    try:
        yield
    finally:
        _current.reset(token)


def current_attestation(patient_id: str | None) -> Attestation | None:
    """The attestation for this patient in the running task, if any."""
    found = _current.get()
    return found if found is not None and found.patient_id == patient_id else None
