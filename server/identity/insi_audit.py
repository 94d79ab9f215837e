"""Every INSi call and its answer as an AuditEvent (SGL.INS.04, .40, .41, .42).

One AuditEvent per call that reached the network, whatever its end: who (the user), when, which
operation, the patient concerned, the answer code, for a 00 the INS, its OID, the INS history and
the reference strict traits, for a verification OK/KO with the reasons, and the raw request and
answer (base64) so that the trace is the exchange itself, not a summary of it.
"""

from __future__ import annotations

import base64
from datetime import UTC
from typing import Any

from facades.insi import Exchange, Result
from resources.fhirjson import instant

AUDIT_TYPE_SYSTEM = "https://opensgl.org/fhir/CodeSystem/audit-type"
INSI_AUDIT_TYPE = "insi"


def _detail(kind: str, value: str) -> dict[str, Any]:
    return {"type": kind, "valueString": value}


def _answer_details(result: Result | None) -> list[dict[str, Any]]:
    if result is None:
        return []
    rows = [_detail("code", result.code), _detail("label", result.label)]
    if result.identity is not None:
        ident, traits = result.identity, result.identity.traits
        rows += [
            _detail("ins", ident.active.matricule),
            _detail("oid", ident.active.oid),
            _detail("ins-history", " ".join(f"{h.matricule}/{h.oid}" for h in ident.history)),
            _detail("traits", f"{traits.birth_name}|{traits.first_names}|{traits.sex}|{traits.birth_date}|"
                              f"{traits.birthplace}"),
        ]
    return rows


def insi_audit_event(exchange: Exchange, patient_id: str | None) -> dict[str, Any]:
    """The AuditEvent of one INSi exchange."""
    started = instant(exchange.started.astimezone(UTC).replace(tzinfo=None))
    entities: list[dict[str, Any]] = []
    if patient_id:
        entities.append({"what": {"reference": f"Patient/{patient_id}"},
                         "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1"}})
    exchange_entity: dict[str, Any] = {
        "name": exchange.message_id,
        "description": exchange.outcome[:1000],
        "query": base64.b64encode(exchange.request).decode("ascii"),
        "detail": _answer_details(exchange.result),
    }
    if exchange.response is not None:
        exchange_entity["detail"].append({"type": "response", "valueBase64Binary":
                                          base64.b64encode(exchange.response).decode("ascii")})
    entities.append(exchange_entity)
    return {
        "resourceType": "AuditEvent",
        "type": {"system": AUDIT_TYPE_SYSTEM, "code": INSI_AUDIT_TYPE, "display": "INSi teleservice call"},
        "subtype": [{"system": "urn:ServiceIdentiteCertifiee:1.0.0", "code": exchange.operation.value}],
        "action": "E",
        "period": {"start": started},
        "recorded": started,
        "outcome": "0" if exchange.error is None else "8",
        "outcomeDesc": exchange.outcome[:1000],
        "agent": [{"who": {"identifier": {"system": "urn:opensgl:client", "value": exchange.caller.user},
                           "display": exchange.caller.user},
                   "requestor": True,
                   "name": exchange.caller.structure}],
        "source": {"observer": {"display": "OpenSGL"}},
        "entity": entities,
    }
