"""The biologist a biological validation or correction names: the Practitioner the authenticated
caller acts as (a biologist's account, or an API client created with ``--practitioner``), identified
by an RPPS. Without one the step is refused: a CR-Bio is never "validé par" a process or a login."""

from __future__ import annotations

import re
from typing import Any

from resources.errors import Forbidden
from resources.store.base import FhirStore
from server.access.agents import caller_reference
from server.access.caller import Caller

RPPS_SYSTEMS = ("urn:oid:1.2.250.1.71.4.2.1", "https://rpps.esante.gouv.fr")
_RPPS = re.compile(r"^8?\d{11}$")


def rpps_of(practitioner: dict[str, Any]) -> str | None:
    """The RPPS number (11 digits) of a Practitioner: idNatPs ``8``+RPPS under the ANS OID, or the RPPS system."""
    for ident in practitioner.get("identifier", ()):
        value = str(ident.get("value", ""))
        if ident.get("system") in RPPS_SYSTEMS and _RPPS.match(value):
            return value[-11:]
    return None


def display_name(practitioner: dict[str, Any]) -> str:
    name = (practitioner.get("name") or [{}])[0]
    parts = [*name.get("prefix", ()), *name.get("given", ()), name.get("family", "")]
    return " ".join(p for p in parts if p).strip() or practitioner.get("id", "")


async def validating_biologist(store: FhirStore, caller: Caller, step: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the Practitioner, the reference naming it) for the caller, or 403 saying what is missing."""
    if not caller.practitioner or not caller.practitioner.startswith("Practitioner/"):
        raise Forbidden(f"[VAL-13] {step} needs a caller acting as an RPPS-identified biologist; {caller.id} "
                        "is linked to no Practitioner (sgl users create --practitioner / sgl clients create "
                        "--practitioner)", expression="caller.practitioner")
    stored = await store.read("Practitioner", caller.practitioner.split("/", 1)[1])
    practitioner = stored.resource or {}
    if not practitioner or practitioner.get("active") is False or rpps_of(practitioner) is None:
        raise Forbidden(f"[VAL-13] {step}: {caller.practitioner} has no RPPS identifier (or is inactive)",
                        expression="Practitioner.identifier")
    return practitioner, caller_reference(caller, display_name(practitioner))
