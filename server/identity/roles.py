"""Habilitations on identity data (SGL.INS.05-06), as the identity workflow asks them: see, edit,
validate an identity, call INSi, unlock strict traits, act as the identity feed.

They are rows of the one permission table (``server/access/permissions.py``), not a second table:
each right is a (Patient, interaction) pair there. An unknown role has no right at all, so a typo
never opens identity data; INSi access follows the identity habilitations exactly (SGL.INS.06).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from server.access.permissions import allows, authorize


class Right(StrEnum):
    SEE = "read"
    EDIT = "update"
    INSI = "$insi-search"
    VALIDATE = "$validate-identity"
    UNLOCK = "unlock"
    FEED = "feed"
    INS = "ins"


@dataclass(frozen=True)
class Profile:
    name: str

    @property
    def rights(self) -> frozenset[Right]:
        return frozenset(r for r in Right if allows(self.name, "Patient", r.value))

    def allows(self, right: Right) -> bool:
        return allows(self.name, "Patient", right.value)

    def require(self, right: Right, *, expression: str = "Patient") -> None:
        """Raise 403 naming the role and the missing permission."""
        authorize(self.name, "Patient", right.value, expression=expression)


def profile(role: str) -> Profile:
    return Profile(role)
