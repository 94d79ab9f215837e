"""Habilitations on identity data (SGL.INS.05-06): which profile may see, edit, validate an
identity, call INSi, unlock strict traits or act as the hospital identity feed.

The profile is ``Caller.role`` (``SGL_CLIENT_ROLE`` until Pro Santé Connect login exists). An
unknown profile has no right at all, so that a typo never opens identity data. The same table
guards the REST reads, every write (through the Patient write guard) and the INSi operations,
so INSi access follows the identity habilitations exactly (SGL.INS.06).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from resources.errors import Forbidden


class Right(StrEnum):
    SEE = "see identity data"
    EDIT = "edit identity data"
    INSI = "call the INSi teleservice"
    VALIDATE = "validate an identity on a justificatif"
    UNLOCK = "edit the strict traits of a retrieved or qualified identity"
    FEED = "set the status and INS of the lab's own identity domain"


@dataclass(frozen=True)
class Profile:
    name: str
    rights: frozenset[Right]

    def allows(self, right: Right) -> bool:
        return right in self.rights

    def require(self, right: Right, *, expression: str = "Patient") -> None:
        """Raise 403 naming the profile and the missing right."""
        if right not in self.rights:
            raise Forbidden(f"[SGL.INS.05] the profile {self.name!r} may not {right.value}", expression=expression)


_DESK = frozenset({Right.SEE, Right.EDIT, Right.INSI, Right.VALIDATE})
PROFILES: dict[str, frozenset[Right]] = {
    "secretaire": _DESK,
    "biologiste": _DESK,
    "super-utilisateur": _DESK | {Right.UNLOCK},
    "technicien": frozenset(),
    "source-identite": frozenset({Right.SEE, Right.EDIT, Right.FEED}),
}
"""Technicians work on specimens by accession number and never open identity data. ``source-identite`` is
the socket partner role of the hospital identity repository (server/partners), the only one with FEED."""


def profile(role: str) -> Profile:
    return Profile(role, PROFILES.get(role, frozenset()))
