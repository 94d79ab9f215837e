"""Which role may run which validation step (habilitations until Pro Santé Connect profiles exist)."""

from __future__ import annotations

from server.guards import Caller
from server.validation.errors import RoleRequired

TECHNICIAN, BIOLOGIST = "technicien", "biologiste"
TECHNICAL_ROLES = (TECHNICIAN, BIOLOGIST)
BIOLOGICAL_ROLES = (BIOLOGIST,)


def require_role(caller: Caller, step: str, allowed: tuple[str, ...]) -> None:
    if caller.role not in allowed:
        raise RoleRequired(step, caller.role, allowed)
