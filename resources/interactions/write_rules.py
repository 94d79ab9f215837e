"""Write rules: business rules that see every write, whatever the entry point.

The server composes the write rules of each workflow (identitovigilance on Patient, validation on
Observation...) into one ``WriteRule`` per caller and passes it to the interactions, so the REST
API, bundles, HL7 and CLI paths all go through the same rules. A write rule returns the resource to
write (possibly amended, e.g. an INS cleared) or raises ``RuleViolation``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class WriteIntent:
    resource_type: str
    action: Literal["create", "update", "delete"]
    current: dict[str, Any] | None
    """The stored version (None for a create)."""
    proposed: dict[str, Any] | None
    """What the caller wants stored (None for a delete)."""
    session: Any = None


WriteRule = Callable[[WriteIntent], Awaitable[dict[str, Any] | None]]

AccessCheck = Callable[[str, str], None]
"""``check(resource_type, interaction)`` raises ``Forbidden`` when the caller may not: the server's
permission table, handed down so that batch entries and ``_include``/``_revinclude`` targets are
checked by the same rule as the routes (interactions: read, create, update, delete)."""


def check_access(access: AccessCheck | None, resource_type: str, interaction: str) -> None:
    if access is not None:
        access(resource_type, interaction)


async def apply_write_rule(write_rule: WriteRule | None, intent: WriteIntent) -> dict[str, Any] | None:
    if write_rule is None:
        return intent.proposed
    return await write_rule(intent)
