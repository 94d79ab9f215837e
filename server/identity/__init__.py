"""Identitovigilance (RNIV) for OpenSGL: the Patient write guard, habilitations, the identity
operations ($insi-search, $insi-verify, $validate-identity, $duplicates) and INSi wiring.

The router lives in ``server.identity.routes`` and the CLI group in ``server.identity.cli``; they
are not imported here so that ``server.guards`` can import the guard without an import cycle.
"""

from server.identity.guard import IdentityGuard, check_ins_identifiers, register_identity_guard
from server.identity.policy import IdentityPolicy, Justificatif
from server.identity.roles import Profile, Right, profile

__all__ = [
    "IdentityGuard",
    "IdentityPolicy",
    "Justificatif",
    "Profile",
    "Right",
    "check_ins_identifiers",
    "profile",
    "register_identity_guard",
]
