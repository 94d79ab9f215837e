"""Partner administration, the one implementation behind ``sgl partners`` and the ``/fhir/Endpoint`` doors:
a partner from its fields (the keys of ``sgl partners import``), registered or removed in the registry
(``server/partners/registry.py``, the one store the listeners read) with an AuditEvent naming who did it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from resources.errors import InvalidInput
from resources.store.base import FhirStore
from server.access.admin_audit import PARTNER_SYSTEM, trace
from server.access.caller import Caller
from server.partners.model import Partner
from server.partners.registry import PartnerRegistry

FIELDS = ("name", "role", "hl7_application", "hl7_facility", "astm_sender", "addresses", "send_to",
          "identifier_types", "options", "identity_updates")
"""What a partner is given as (JSON import, FHIR Parameters, the CLI's options)."""


def _text(fields: Mapping[str, Any], key: str) -> str | None:
    value = fields.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise InvalidInput(f"{key}: a text of at most 200 characters", expression=key)
    return value


def _mapping(fields: Mapping[str, Any], key: str) -> dict[str, str]:
    value = fields.get(key) or {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidInput(f"{key}: an object of text values", expression=key)
    return dict(value)


def from_fields(fields: Mapping[str, Any]) -> Partner:
    """The partner these fields describe, or InvalidInput naming the first wrong field (nothing is written)."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown partner field {', '.join(unknown)}; fields: {', '.join(FIELDS)}",
                           expression=unknown[0])
    addresses = fields.get("addresses") or ()
    if isinstance(addresses, str) or not all(isinstance(a, str) for a in addresses):
        raise InvalidInput("addresses: a list of IP addresses or CIDR networks", expression="addresses")
    if not isinstance(fields.get("identity_updates", False), bool):
        raise InvalidInput("identity_updates: true or false", expression="identity_updates")
    return Partner(name=_text(fields, "name") or "", role=_text(fields, "role") or "",
                   hl7_application=_text(fields, "hl7_application"), hl7_facility=_text(fields, "hl7_facility"),
                   astm_sender=_text(fields, "astm_sender"), addresses=tuple(addresses),
                   send_to=_text(fields, "send_to"), identifier_types=_mapping(fields, "identifier_types"),
                   options=_mapping(fields, "options"), identity_updates=bool(fields.get("identity_updates", False)))


async def add(registry: PartnerRegistry, store: FhirStore, who: Caller, partner: Partner) -> Partner:
    """Registered (409 if the name or its sender is taken); the listeners admit it within a second."""
    await registry.add(partner)
    await trace(store, who, "partner-create", target_system=PARTNER_SYSTEM, target=partner.name,
                detail=f"partner {partner.describe()} registered")
    return partner


async def remove(registry: PartnerRegistry, store: FhirStore, who: Caller, name: str) -> None:
    """Unregistered (404 if unknown): its next message is refused."""
    await registry.remove(name)
    await trace(store, who, "partner-remove", target_system=PARTNER_SYSTEM, target=name,
                detail=f"partner {name} removed")


def _pairs(values: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(values.items())) or "(aucune)"


async def set_mappings(registry: PartnerRegistry, store: FhirStore, who: Caller, name: str, expected: int | None,
                       identifier_types: Mapping[str, str], options: Mapping[str, str]) -> tuple[Partner, int]:
    """The partner's identifier-type mappings and options replaced by these (checked like a registration:
    InvalidInput names the wrong one and nothing is written), as its next version, traced. 412 on a stale
    ``expected`` version."""
    before: list[Partner] = []

    def change(partner: Partner) -> Partner:
        before.append(partner)
        return dataclasses.replace(partner, identifier_types=dict(identifier_types), options=dict(options))

    partner, version = await registry.amend(name, expected, change)
    old = before[0]
    await trace(store, who, "partner-update", target_system=PARTNER_SYSTEM, target=name,
                detail=f"partner {name} version {version}: identifier types {_pairs(old.identifier_types)} -> "
                       f"{_pairs(partner.identifier_types)}; options {_pairs(old.options)} -> "
                       f"{_pairs(partner.options)}")
    return partner, version
