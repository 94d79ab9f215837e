"""Manual MSSanté sending (SGL.MSS.18, .21, .23): a professional chooses who receives the report's CR-Bio.

    POST /fhir/DiagnosticReport/{id}/$mssante-send
        Parameters: recipient (Reference to PractitionerRole | Practitioner | Organization, 0..*),
                    address (string, an MSSanté address typed in, 0..*), patient (boolean, 0..1)

Why: in a hospital setting (``SGL_MSS_AUTOMATIC=false``) nothing goes out on validation; the professional
sends the stay's report to the correspondents and the patient he chooses (MSS.18, MSS.21). Anywhere, a
*partial* report (``preliminary``) goes out only this way, by a deliberate act (MSS.23); its complete version
then reaches the same people as an "annule et remplace" (``mssante_channel.py``: whoever holds an earlier
version gets the replacement) on top of the automatic recipients when sending is automatic.

The choice goes through the outbox like any delivery (same idempotency key as the automatic one, so a
recipient who already has this version is not mailed twice: the answer says ``already``). Everything is
checked before anything is written, then the deliveries are written in one transaction:

- the documents of the report's current version must be ready (409 otherwise);
- each reference must name a stored directory entry with an MSSanté address, each typed address must be an
  MSSanté one (400: SGL.ANN.05);
- a refusal recorded on the dossier refuses that audience (422: SGL.MSS.16, .19), and the patient is mailed
  only at the address of a qualified INS (422: SGL.MSS.12).

The permission row is in ``server/access/permissions.py`` (biologists: sending a report is a professional's act).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from facades.mssante import MssMessageInvalid, patient_address
from resources.codes import DOCUMENTS_STATUS_URL, REPORT_WITHDRAWN
from resources.errors import Conflict, InvalidInput, RuleViolation
from resources.ins import emittable_ins, identity_status
from resources.store.base import FhirStore, read_or_none
from server.delivery.channel import Action, Recipient, Resource
from server.delivery.facts import Site
from server.delivery.mssante_channel import NAME, delivery_recipient, dossier_requests
from server.delivery.outbox import Outbox
from server.mssante.recipients import MailRecipient, display_name, mssante_address, read_party
from server.orders.refusals import refused_channels


@dataclass(frozen=True)
class Choice:
    """What the person asked for, as read from the ``Parameters``."""

    references: tuple[str, ...]
    addresses: tuple[str, ...]
    patient: bool


def read_choice(params: list[dict[str, Any]]) -> Choice:
    references, addresses, patient = [], [], False
    for i, p in enumerate(params):
        where = f"Parameters.parameter[{i}]"
        if p["name"] == "recipient":
            value = p.get("valueReference")
            reference = value.get("reference") if isinstance(value, dict) else None
            if not isinstance(reference, str) or not reference.strip():
                raise InvalidInput("'recipient' needs a valueReference", expression=where)
            references.append(reference.strip())
        elif p["name"] == "address":
            if not isinstance(p.get("valueString"), str):
                raise InvalidInput("'address' needs a valueString", expression=where)
            addresses.append(str(p["valueString"]).strip())
        elif p["name"] == "patient":
            if not isinstance(p.get("valueBoolean"), bool):
                raise InvalidInput("'patient' needs a valueBoolean", expression=where)
            patient = bool(p["valueBoolean"])
        else:
            raise InvalidInput(f"unknown parameter {p['name']!r} (recipient, address, patient)", expression=where)
    if not (references or addresses or patient):
        raise InvalidInput("choose at least one recipient: 'recipient', 'address' or 'patient' = true",
                           expression="Parameters")
    return Choice(tuple(references), tuple(addresses), patient)


def ready_version(report: Resource) -> int:
    """The version of the report's stored documents, when they are current and ready (409 otherwise)."""
    where = f"DiagnosticReport/{report.get('id')}"
    if report.get("status") in REPORT_WITHDRAWN:
        raise Conflict(f"{where} is {report.get('status')}: a withdrawn report is not sent", expression="status")
    status = next((e for e in report.get("extension", ()) if e.get("url") == DOCUMENTS_STATUS_URL), None)
    parts = {p.get("url"): next((v for k, v in p.items() if k.startswith("value")), None)
             for p in (status or {}).get("extension", ())}
    stored = [int(m["n"]) for f in report.get("presentedForm", ())
              if (m := re.fullmatch(rf"Binary/{re.escape(str(report.get('id')))}-n3-v(?P<n>\d+)", str(f.get("url"))))]
    version = max(stored, default=0)
    if not version or parts.get("status") != "ready" or parts.get("version") != version:
        raise Conflict(f"{where} has no ready CR-Bio to send (documents {parts.get('status') or 'not made'}); "
                       "send it once its documents are made", expression="presentedForm")
    return version


class ManualSend:
    """Resolve a person's choice into deliveries of the ``mssante`` channel, and write them."""

    def __init__(self, db: AsyncDatabase[Any], store: FhirStore, site: Site | None = None) -> None:
        self.db, self.store, self.site = db, store, site

    async def _read(self, rtype: str, rid: str) -> Resource | None:
        return await read_or_none(self.store, rtype, rid)

    async def _professional(self, reference: str, i: int) -> MailRecipient:
        party = await read_party(self._read, reference)
        if party is None:
            raise InvalidInput(f"recipient {reference!r} is not a stored PractitionerRole, Practitioner or "
                               "Organization", expression=f"recipient[{i}]")
        address = mssante_address(*party)
        if address is None:
            raise InvalidInput(f"{reference} has no MSSanté address: look it up in the Annuaire Santé "
                               "($mssante-lookup, SGL.ANN.05) or type it", expression=f"recipient[{i}]")
        return MailRecipient(address, "pro", display_name(party[1], party[2]))

    async def recipients(self, report: Resource, choice: Choice, by: str) -> list[Recipient]:
        patient_ref = str((report.get("subject") or {}).get("reference", "")).partition("/")[2]
        patient = await self._read("Patient", patient_ref) or {}
        requests = await dossier_requests(self._read, report)
        refused: set[str] = set()
        for request in requests:
            refused |= await refused_channels(self.store, f"ServiceRequest/{request['id']}")
        chosen = [await self._professional(r, i) for i, r in enumerate(choice.references)]
        for i, address in enumerate(choice.addresses):
            if mssante_address({"telecom": [{"system": "email", "value": address}]}) is None:
                raise InvalidInput(f"{address!r} is not an MSSanté address (…@….mssante.fr)",
                                   expression=f"address[{i}]")
            chosen.append(MailRecipient(address, "pro", address))
        if chosen and "mssante-pro" in refused:
            raise RuleViolation("SGL.MSS.16", "the patient refused sending this dossier's report to professionals "
                                "over MSSanté", expression="recipient")
        if choice.patient:
            if "mssante-patient" in refused:
                raise RuleViolation("SGL.MSS.19", "the patient refused MSSanté sending of this dossier's report to "
                                    "himself", expression="patient")
            ins = emittable_ins(patient)
            try:
                address = patient_address(str((ins or {}).get("value") or ""), identity_status(patient) == "QUAL")
            except MssMessageInvalid as exc:
                raise RuleViolation("SGL.MSS.12", exc.diagnostics, expression="patient") from exc
            chosen.append(MailRecipient(address, "patient", "patient"))
        unique = {c.address.lower(): c for c in chosen}
        return [delivery_recipient(c, patient, chosen_by=by) for c in unique.values()]

    async def send(self, report_id: str, choice: Choice, by: str) -> list[tuple[str, bool]]:
        """The deliveries written (key, new) for the report's current version."""
        report = (await self.store.read("DiagnosticReport", report_id)).resource or {}
        version = ready_version(report)
        recipients = await self.recipients(report, choice, by)
        action = Action.PUBLISH if version == 1 else Action.REPLACE
        async with self.store.transaction() as session:
            outbox = Outbox(self.db, self.store, [], self.site)
            return await outbox.record_for(session, NAME, action, report, version, recipients)
