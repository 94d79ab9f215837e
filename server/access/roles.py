"""The roles a caller can hold (SGL.INS.05): the lab's staff, and the socket/API partners.

A role is only a name here; what it may do is the permission table (``permissions.py``). An
unknown role has no right at all, so a typo never opens anything.
"""

from __future__ import annotations

SECRETAIRE = "secretaire"
PRELEVEUR = "preleveur"
TECHNICIEN = "technicien"
BIOLOGISTE = "biologiste"
BIOLOGISTE_RESPONSABLE = "biologiste-responsable"
ADMINISTRATEUR = "administrateur"
STAFF_ROLES = (SECRETAIRE, PRELEVEUR, TECHNICIEN, BIOLOGISTE, BIOLOGISTE_RESPONSABLE, ADMINISTRATEUR)

AUTOMATE = "automate"
"""An analyzer (results in, host query)."""
SOURCE_IDENTITE = "source-identite"
"""The hospital's identity feed (PAM-FR), under a contrat de confiance (SGL.INS.39)."""
DPI = "dpi"
"""A hospital EHR: orders in, results out."""
SOUS_TRAITANT = "sous-traitant"
"""A subcontracting lab: its CR-Bio come in."""
PARTNER_ROLES = (AUTOMATE, SOURCE_IDENTITE, DPI, SOUS_TRAITANT)

ROLES = STAFF_ROLES + PARTNER_ROLES
VALIDATING_ROLES = (BIOLOGISTE, BIOLOGISTE_RESPONSABLE)
"""Roles whose biological validation is legally binding (with an RPPS-identified Practitioner)."""

SYSTEM = "systeme"
"""The server itself (start-up steps, autoverification): never given to a client or a user."""


def check_role(role: str) -> str:
    """The role, or ValueError listing the valid ones (CLI and account input)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return role
