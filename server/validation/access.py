"""Which role may run which validation step: rows of the one permission table
(``server/access/permissions.py``), asked here too because the steps also run outside HTTP
(autoverification, CLI), and a biological validation must name an RPPS-identified biologist."""

from __future__ import annotations

from server.access.caller import Caller
from server.access.permissions import authorize

TECHNICAL_VALIDATION = ("Observation", "$validate-technical")
RERUN = ("Observation", "$rerun")
BIOLOGICAL_VALIDATION = ("DiagnosticReport", "$validate-biological")
CORRECTION = ("DiagnosticReport", "$correct")
WITHDRAWAL = ("DiagnosticReport", "$withdraw")


def require_permission(caller: Caller, door: tuple[str, str]) -> None:
    authorize(caller.role, door[0], door[1], expression="caller.role")
