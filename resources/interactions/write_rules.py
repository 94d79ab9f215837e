"""Write rules: business rules that see every write, whatever the entry point.

The server composes the write rules of each workflow (identitovigilance on Patient, validation on
Observation...) into one ``WriteRule`` per caller and passes it to the interactions, so the REST
API, bundles, HL7 and CLI paths all go through the same rules. A write rule returns the resource to
write (possibly amended, e.g. an INS cleared) or raises ``RuleViolation``.

What the operation making a write vouches for travels in the intent itself (``step``,
``attestation``), set by :func:`stamped` on the rule the operation hands to the interactions: no
ambient state, so a rule sees exactly what the code that called the interaction declared.

A rule may also need what only exists once the write is made: the id a create was given, or the other
resources of the same transaction Bundle (created in bulk after every rule ran). The interactions
therefore call the write rule a second time after each create and update, in the same transaction, with
``written=True`` and the stored resource as ``proposed`` (:func:`after_write`); its answer is ignored
then. A rule that writes beside the resource (a notice, an outbox item) does it there, atomic with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from resources.store.base import StoreSession


@dataclass(frozen=True)
class WriteIntent:
    resource_type: str
    action: Literal["create", "update", "delete"]
    current: dict[str, Any] | None
    """The stored version (None for a create)."""
    proposed: dict[str, Any] | None
    """What the caller wants stored (None for a delete)."""
    session: StoreSession | None = None
    step: str | None = None
    """The workflow operation making this write (e.g. ``technical-validation``); None for a plain
    interaction (REST create/update/delete, a batch entry)."""
    attestation: object | None = None
    """What that operation vouches for about the resource (the identity operations' INSi answer or
    checked justificatif); a rule accepts only the attestation type it knows."""
    written: bool = False
    """The write is made (same transaction): ``proposed`` is the stored resource, with its id and
    version; what the rule returns is ignored (see :func:`after_write`)."""


WriteRule = Callable[[WriteIntent], Awaitable[dict[str, Any] | None]]

AccessCheck = Callable[[str, str], None]
"""``check(resource_type, interaction)`` raises ``Forbidden`` when the caller may not: the server's
permission table, handed down so that batch entries and ``_include``/``_revinclude`` targets are
checked by the same rule as the routes (interactions: read, create, update, delete)."""


def check_access(access: AccessCheck | None, resource_type: str, interaction: str) -> None:
    if access is not None:
        access(resource_type, interaction)


def stamped(rule: WriteRule | None, *, step: str | None = None,
            attestation: object | None = None) -> WriteRule | None:
    """``rule`` seeing every intent it is given with ``step`` and/or ``attestation`` set: what an
    operation hands to the interactions so its writes carry what it vouches for."""
    if rule is None:
        return None
    inner = rule

    async def with_fields(intent: WriteIntent) -> dict[str, Any] | None:
        return await inner(replace(intent, step=step or intent.step,
                                   attestation=attestation if attestation is not None else intent.attestation))
    return with_fields


async def apply_write_rule(write_rule: WriteRule | None, intent: WriteIntent) -> dict[str, Any] | None:
    if write_rule is None:
        return intent.proposed
    return await write_rule(intent)


async def after_write(write_rule: WriteRule | None, intent: WriteIntent) -> None:
    """Tell the write rule that ``intent`` was written (``proposed``: the stored resource), inside the
    writing transaction: what a rule adds beside a new or changed resource commits with it."""
    if write_rule is not None:
        await write_rule(replace(intent, written=True))
