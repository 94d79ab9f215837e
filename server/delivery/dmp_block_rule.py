"""Who may block DMP feeding for a prescriber or an analysis (SGL.DMP.02): the write rule on the resources that
carry the ``dmp-feeding-blocked`` extension (``dmp_settings.py``).

Editing a prescriber (directory) or a catalogue definition is open to more roles (a secretary keeps the
prescribers' addresses up to date); stopping the DMP feeding of every dossier of a prescriber or an analysis is a
biologist's decision. So a write that sets, changes or lifts the extension needs the ``dmp-block`` permission of
the one table (``server/access/permissions.py``), whatever the door (PUT, POST, batch, transaction): a caller
without it gets 403 naming it, and nothing is written.
"""

from __future__ import annotations

from typing import Any

from resources.interactions import WriteIntent
from server.access.caller import Caller
from server.access.permissions import authorize
from server.delivery.dmp_settings import BLOCK_EXTENSION, extension_block
from server.write_rules import WriteRules

DMP_BLOCK = "dmp-block"
BLOCKABLE_TYPES = ("Practitioner", "PractitionerRole", "Organization", "ObservationDefinition")


def _block(resource: dict[str, Any] | None) -> str | None:
    return extension_block(resource) if resource is not None else None


async def dmp_block_rule(caller: Caller, intent: WriteIntent) -> dict[str, Any] | None:
    """Refuse a change of the block to a caller without the permission; leave the resource as proposed."""
    if intent.proposed is not None and _block(intent.current) != _block(intent.proposed):
        authorize(caller.role, intent.resource_type, DMP_BLOCK,
                  expression=f"{intent.resource_type}.extension('{BLOCK_EXTENSION}')")
    return None


def register_dmp_block_rule(write_rules: WriteRules) -> None:
    for rtype in BLOCKABLE_TYPES:
        write_rules.add(rtype, dmp_block_rule)
