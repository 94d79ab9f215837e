"""Identitovigilance (RNIV) for OpenSGL: the Patient write rule, habilitations, the identity
operations ($insi-search, $insi-verify, $validate-identity, $duplicates) and INSi wiring.

The router lives in ``server.identity.routes`` and the CLI group in ``server.identity.cli``; they
are not imported here so that ``server.write_rules`` can import the rule without an import cycle.
"""

from server.identity.policy import IdentityPolicy, Justificatif
from server.identity.roles import Profile, Right, profile
from server.identity.write_rules import IdentityRule, check_ins_identifiers, register_identity_rules

__all__ = [
    "IdentityRule",
    "IdentityPolicy",
    "Justificatif",
    "Profile",
    "Right",
    "check_ins_identifiers",
    "profile",
    "register_identity_rules",
]
