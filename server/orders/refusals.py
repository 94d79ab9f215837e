"""The patient's refusals for a dossier (a requisition), recorded as FHIR Consent resources.

Three channels, one Consent per dossier and channel:

- ``mssante-pro``: no report to the correspondents over MSSanté (SGL.MSS.16);
- ``mssante-patient``: no report to the patient over MSSanté, e.g. a minor (SGL.MSS.19);
- ``dmp``: no DMP feeding of this dossier's report (SGL.DMP.02).

A Consent has ``scope`` patient-privacy, ``category`` LOINC 59284-0 plus the channel code,
``policyRule`` OPTOUT (refused) or OPTIN (accepted after all), ``dateTime`` when the choice was
recorded, ``performer`` the patient, and ``provision``: ``type`` deny or permit, ``action``
disclose, ``data`` the dossier's ServiceRequests (meaning ``related``: the reports based on them
too). A delivery job may send a report of ServiceRequest S over channel C unless an ``active``
Consent of category C has ``provision.type = deny`` and S in ``provision.data``.

Changing the choice later updates the same Consent: a new version, the earlier ones stay in its
history, and each version gets its own Provenance naming who recorded it (trace.py).
"""

from __future__ import annotations

from typing import Any

from resources.codes import LOINC_SYSTEM
from resources.errors import InvalidInput
from resources.fhirjson import instant
from resources.interactions import WriteRule, create, update
from resources.interactions.search import plan_search
from resources.search.date import now_utc
from resources.search.query import MAX_COUNT
from resources.store.base import FhirStore, Stored, StoreSession
from server.access.caller import Caller
from server.audit import provenance
from server.orders.trace import stored_of

CHANNEL_SYSTEM = "https://opensgl.org/fhir/CodeSystem/report-channel"
CHANNELS: dict[str, tuple[str, str]] = {
    "mssante-pro": ("SGL.MSS.16", "Envoi du compte rendu aux professionnels par MSSanté"),
    "mssante-patient": ("SGL.MSS.19", "Envoi du compte rendu au patient par MSSanté"),
    "dmp": ("SGL.DMP.02", "Alimentation du DMP par le compte rendu"),
}
PATIENT_CONSENT = {"coding": [{"system": LOINC_SYSTEM, "code": "59284-0", "display": "Patient Consent"}]}


def check_channel(channel: str, expression: str) -> str:
    if channel not in CHANNELS:
        raise InvalidInput(f"refusal channel {channel!r} is not one of {', '.join(CHANNELS)}", expression=expression)
    return channel


def consent(patient: str, channel: str, requests: list[str], refused: bool) -> dict[str, Any]:
    """The Consent recording the patient's choice for ``channel`` on the dossier ``requests``."""
    rule, label = CHANNELS[channel]
    return {
        "resourceType": "Consent", "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [PATIENT_CONSENT, {"coding": [{"system": CHANNEL_SYSTEM, "code": channel, "display": label}],
                                       "text": rule}],
        "patient": {"reference": patient}, "dateTime": instant(now_utc()),
        "performer": [{"reference": patient}],
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                   "code": "OPTOUT" if refused else "OPTIN"}]},
        "provision": {
            "type": "deny" if refused else "permit",
            "action": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction",
                                    "code": "disclose"}]}],
            "data": [{"meaning": "related", "reference": {"reference": r}} for r in requests],
        },
    }


async def find_consent(store: FhirStore, patient: str, channel: str, requests: list[str], *,
                       session: StoreSession | None = None) -> dict[str, Any] | None:
    """The Consent of this dossier and channel, if one was recorded."""
    req = await plan_search(store, "Consent", [("patient", patient), ("category", f"{CHANNEL_SYSTEM}|{channel}"),
                                               ("_count", str(MAX_COUNT))], strict=True, session=session)
    wanted = set(requests)
    for found in (await store.search(req, session=session)).matches:
        covered = {d.get("reference", {}).get("reference") for d in found.get("provision", {}).get("data", [])}
        if covered & wanted:
            return found
    return None


async def record_refusal(store: FhirStore, *, patient: str, requests: list[str], channel: str, refused: bool,
                         caller: Caller, session: StoreSession | None, write_rule: WriteRule | None) -> list[Stored]:
    """Create or change the Consent for ``channel`` and trace it; returns the versions written."""
    rule, label = CHANNELS[channel]
    current = await find_consent(store, patient, channel, requests, session=session)
    proposed = consent(patient, channel, requests, refused)
    if current is None:
        outcome = await create(store, "Consent", proposed, session=session, write_rule=write_rule)
        activity = "CREATE"
    else:
        if current.get("provision", {}).get("type") == proposed["provision"]["type"]:
            return []
        body = {**proposed, "id": current["id"]}
        outcome = await update(store, "Consent", current["id"], body, session=session, write_rule=write_rule,
                               if_match=f'W/"{current["meta"]["versionId"]}"')
        activity = "UPDATE"
    what = "refused" if refused else "accepted"
    written = stored_of(outcome)
    trace = provenance([written], caller, activity, f"{rule}: {label} — {what} by the patient")
    return [written, stored_of(await create(store, "Provenance", trace, session=session, write_rule=write_rule))]


async def refused_channels(store: FhirStore, service_request: str, *, session: StoreSession | None = None) -> set[str]:
    """The channels a report based on ``ServiceRequest/<id>`` must NOT go to (the delivery rule above).

    For the delivery workflows (DMP feeding, MSSanté to professionals and to the patient): "then send
    nothing" of SGL.MSS.16, SGL.MSS.19 and SGL.DMP.02.
    """
    request = (await store.read("ServiceRequest", service_request.removeprefix("ServiceRequest/"),
                                session=session)).resource or {}
    patient = (request.get("subject") or {}).get("reference", "")
    req = await plan_search(store, "Consent", [("patient", patient), ("status", "active"),
                                               ("_count", str(MAX_COUNT))], strict=True, session=session)
    target = f"ServiceRequest/{request.get('id')}"
    out: set[str] = set()
    for found in (await store.search(req, session=session)).matches:
        provision = found.get("provision") or {}
        covered = {(d.get("reference") or {}).get("reference") for d in provision.get("data", [])}
        channels = {c.get("code") for cat in found.get("category", []) for c in cat.get("coding", [])
                    if c.get("system") == CHANNEL_SYSTEM}
        if provision.get("type") == "deny" and target in covered:
            out |= {str(c) for c in channels if c in CHANNELS}
    return out
