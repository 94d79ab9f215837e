"""Accounts and partners as FHIR resources, and the ``Parameters`` the administration operations take.

A local account is a ``Person`` (id = login): ``active`` is its status, ``identifier`` its login and RPPS,
``link`` the Practitioner it is, and the extensions its role and lockout. A socket partner is an
``Endpoint`` (id = its name): ``connectionType`` MLLP or ASTM, ``address`` where the lab sends to it, and
one extension per registration field. Neither carries a password or a hash, ever.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from resources.errors import InvalidInput
from resources.fhirjson import instant
from server.access.accounts import User
from server.partners.model import Partner

ROLE_URL = "urn:opensgl:StructureDefinition/role"
LOCKED_URL = "urn:opensgl:StructureDefinition/locked-until"
PARTNER_URL = "urn:opensgl:StructureDefinition/partner-"
LOGIN_SYSTEM = "urn:opensgl:user"
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
CONNECTION = "http://terminology.hl7.org/CodeSystem/endpoint-connection-type"


def person(user: User, locked: datetime | None = None) -> dict[str, Any]:
    identifiers = [{"system": LOGIN_SYSTEM, "value": user.username}]
    if user.rpps:
        identifiers.append({"system": RPPS_SYSTEM, "value": user.rpps})
    extensions: list[dict[str, Any]] = [{"url": ROLE_URL, "valueCode": user.role}]
    if locked:
        extensions.append({"url": LOCKED_URL, "valueInstant": instant(locked)})
    out: dict[str, Any] = {"resourceType": "Person", "id": user.username, "extension": extensions,
                           "identifier": identifiers, "active": user.active}
    if user.name:
        out["name"] = [{"text": user.name}]
    if user.practitioner:
        out["link"] = [{"target": {"reference": user.practitioner}}]
    return out


def endpoint(partner: Partner, version: int = 1) -> dict[str, Any]:
    """The partner as an ``Endpoint``; ``meta.versionId`` is its registration version (the If-Match of a change)."""
    mllp = bool(partner.hl7_application)
    extensions: list[dict[str, Any]] = [{"url": PARTNER_URL + "role", "valueCode": partner.role}]
    for key in ("hl7_application", "hl7_facility", "astm_sender"):
        if getattr(partner, key):
            extensions.append({"url": PARTNER_URL + key, "valueString": getattr(partner, key)})
    extensions += [{"url": PARTNER_URL + "addresses", "valueString": a} for a in partner.addresses]
    extensions += [{"url": PARTNER_URL + "identifier_types", "valueString": f"{k}={v}"}
                   for k, v in sorted(partner.identifier_types.items())]
    extensions += [{"url": PARTNER_URL + "options", "valueString": f"{k}={v}"}
                   for k, v in sorted(partner.options.items())]
    extensions.append({"url": PARTNER_URL + "identity_updates", "valueBoolean": partner.identity_updates})
    return {"resourceType": "Endpoint", "id": partner.name, "meta": {"versionId": str(version)},
            "extension": extensions, "status": "active",
            "connectionType": {"system": CONNECTION if mllp else "urn:opensgl:connection-type",
                               "code": "hl7v2-mllp" if mllp else "astm"},
            "name": partner.name, "payloadType": [{"text": partner.role}],
            "address": f"mllp://{partner.send_to}" if partner.send_to else "urn:opensgl:inbound-only"}


def searchset(resources: list[dict[str, Any]], base: str) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                       "search": {"mode": "match"}} for r in resources]}


def parameters(body: Any, operation: str) -> dict[str, list[Any]]:
    """Each parameter's values by name (``value[x]`` of any type), or 400 when the body is not Parameters."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidInput(f"the body of ${operation} is a Parameters resource", expression="resourceType")
    out: dict[str, list[Any]] = {}
    for part in body.get("parameter") or ():
        if not isinstance(part, dict) or not isinstance(part.get("name"), str):
            raise InvalidInput(f"${operation}: each parameter has a name", expression="Parameters.parameter")
        value = next((v for k, v in part.items() if k.startswith("value")), None)
        out.setdefault(part["name"], []).append(value)
    return out


def one_text(params: dict[str, list[Any]], name: str, *, required: bool = False, limit: int = 200) -> str | None:
    """The single text value of ``name`` (a Reference's ``reference`` too)."""
    values = params.get(name, [])
    if len(values) > 1:
        raise InvalidInput(f"{name}: one value", expression=f"Parameters.{name}")
    value = values[0] if values else None
    if isinstance(value, dict) and isinstance(value.get("reference"), str):
        value = value["reference"]
    if value is None or value == "":
        if required:
            raise InvalidInput(f"the parameter {name} is required", expression=f"Parameters.{name}")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"{name}: a text of at most {limit} characters", expression=f"Parameters.{name}")
    return value


def partner_fields(params: dict[str, list[Any]]) -> dict[str, Any]:
    """The fields of ``server/partners/administration.from_fields`` from ``$add-partner``'s Parameters (repeated
    ``addresses``; ``identifier_types`` and ``options`` as repeated ``KEY=VALUE``)."""
    fields: dict[str, Any] = {}
    for name, values in params.items():
        if name in ("addresses", "identifier_types", "options"):
            if not all(isinstance(v, str) for v in values):
                raise InvalidInput(f"{name}: text values", expression=f"Parameters.{name}")
            fields[name] = values if name == "addresses" else dict(_pair(v, name) for v in values)
        elif name == "identity_updates":
            fields[name] = values[0] if len(values) == 1 else None
        else:
            fields[name] = one_text(params, name)
    return fields


def mappings(params: dict[str, list[Any]]) -> tuple[dict[str, str], dict[str, str]]:
    """``$set-mappings``' identifier-type mappings and options (repeated ``KEY=VALUE``; absent: none)."""
    unknown = sorted(set(params) - {"identifier_types", "options"})
    if unknown:
        raise InvalidInput(f"unknown parameter {unknown[0]}; parameters: identifier_types, options",
                           expression=f"Parameters.{unknown[0]}")
    fields = partner_fields({k: v for k, v in params.items()})
    return dict(fields.get("identifier_types") or {}), dict(fields.get("options") or {})


def _pair(value: str, name: str) -> tuple[str, str]:
    key, sep, target = value.partition("=")
    if not sep or not key.strip() or not target.strip():
        raise InvalidInput(f"{name}: {value[:50]!r} is not KEY=VALUE", expression=f"Parameters.{name}")
    return key.strip(), target.strip()
