"""Who receives a CR-Bio over MSSanté, and who does not and why (SGL.MSS.12, .15–.17, .19, .20, .23).

- Professionals: the prescriber (``ServiceRequest.requester``) and every correspondent of the
  dossier (``result-copies-to``, any number: SGL.MSS.15), each at its MSSanté address: a
  ``telecom`` of ``system = email`` whose domain is an MSSanté one (``…mssante.fr``) or typed
  ``MSSANTE`` by the FR Core e-mail type extension; the PractitionerRole's first, then the
  Practitioner's, then the Organization's. Nobody twice.
- The patient: ``<matricule INS>@patient.mssante.fr`` only for a qualified identity (SGL.MSS.12).
- A patient's refusal recorded on the dossier (Consent ``mssante-pro`` / ``mssante-patient``,
  ``server/orders/refusals.py``) removes that audience entirely (SGL.MSS.16, .19).
- A report labelled INVISIBLE_PATIENT is not mailed to the patient (DESTMSSANTEPAT = N, SGL.DOC.17).
- Automatic sending only for a complete report (``final``, ``corrected``, ``amended``): a partial
  one goes out on a professional's deliberate action only (SGL.MSS.23, not automated here).

Pure functions over resources already read, so the rules are tested without a store.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from facades.mssante import MssMessageInvalid, patient_address
from resources.ins import emittable_ins, identity_status

Resource = dict[str, Any]
AUTOMATIC_STATUSES = frozenset({"final", "corrected", "amended"})
EMAIL_TYPE_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type"


@dataclass(frozen=True)
class MailRecipient:
    address: str
    audience: str
    """``pro`` or ``patient``: chooses the reply address and the body (SGL.MSS.26)."""
    name: str


@dataclass(frozen=True)
class Skipped:
    who: str
    reason: str


@dataclass(frozen=True)
class RecipientPlan:
    recipients: tuple[MailRecipient, ...]
    skipped: tuple[Skipped, ...]


def _is_mssante(point: dict[str, Any]) -> bool:
    if point.get("system") != "email" or "@" not in str(point.get("value", "")):
        return False
    typed = {str(c.get("code", "")).upper() for e in point.get("extension", ()) if e.get("url") == EMAIL_TYPE_URL
             for c in (e.get("valueCoding") or {},)}
    domain = str(point["value"]).rsplit("@", 1)[1].lower()
    return "MSSANTE" in typed or domain == "mssante.fr" or domain.endswith(".mssante.fr")


def mssante_address(*resources: Resource | None) -> str | None:
    """The first MSSanté address among the resources' ``telecom``, in the order given."""
    for resource in resources:
        for point in (resource or {}).get("telecom", ()):
            if _is_mssante(point):
                return str(point["value"]).strip()
    return None


def display_name(*resources: Resource | None) -> str:
    for resource in resources:
        for name in (resource or {}).get("name", ()) if isinstance((resource or {}).get("name"), list) else ():
            text = " ".join([*name.get("prefix", ()), *name.get("given", ()), name.get("family", "")]).strip()
            if text:
                return text
        if isinstance((resource or {}).get("name"), str):
            return str((resource or {})["name"])
    return "correspondant"


Party = tuple[Resource | None, Resource | None, Resource | None]
"""(PractitionerRole, Practitioner, Organization) of a prescriber or correspondent; any may be missing."""
Read = Callable[[str, str], Awaitable[Resource | None]]
PARTY_TYPES = frozenset({"PractitionerRole", "Practitioner", "Organization"})


async def read_party(read: Read, reference: str) -> Party | None:
    """The party a ``PractitionerRole/…``, ``Practitioner/…`` or ``Organization/…`` reference names (a role
    with its practitioner and organisation), ``None`` when it is of another type or not stored."""
    kind, _, rid = reference.partition("/")
    found = await read(kind, rid) if kind in PARTY_TYPES and rid and "/" not in rid else None
    if found is None:
        return None
    if kind == "Organization":
        return None, None, found
    if kind == "Practitioner":
        return None, found, None
    practitioner_ref = str((found.get("practitioner") or {}).get("reference", "")).partition("/")
    organization_ref = str((found.get("organization") or {}).get("reference", "")).partition("/")
    return (found, await read("Practitioner", practitioner_ref[2]) if practitioner_ref[2] else None,
            await read("Organization", organization_ref[2]) if organization_ref[2] else None)


def plan_recipients(report: Resource, patient: Resource, parties: Iterable[Party], refused: set[str], *,
                    deliberate: bool = False, invisible_to_patient: bool = False) -> RecipientPlan:
    """Recipients of this report version; ``deliberate``: a professional asked for it (partial report);
    ``invisible_to_patient``: the dossier's INVISIBLE_PATIENT label (the patient is told by a professional
    first), which means no mail to the patient (DESTMSSANTEPAT = N, SGL.DOC.17)."""
    skipped: list[Skipped] = []
    if report.get("status") not in AUTOMATIC_STATUSES and not deliberate:
        reason = f"report {report.get('status')}: a partial report is sent only on request (SGL.MSS.23)"
        return RecipientPlan((), (Skipped("*", reason),))
    chosen: dict[str, MailRecipient] = {}
    if "mssante-pro" in refused:
        skipped.append(Skipped("professionals", "the patient refused sending to professionals (SGL.MSS.16)"))
    else:
        for role, practitioner, organization in parties:
            name = display_name(practitioner, organization)
            address = mssante_address(role, practitioner, organization)
            if address is None:
                skipped.append(Skipped(name, "no MSSanté address known (Annuaire Santé look-up: SGL.ANN.05)"))
            elif address.lower() not in chosen:
                chosen[address.lower()] = MailRecipient(address, "pro", name)
    if "mssante-patient" in refused:
        skipped.append(Skipped("patient", "the patient refused MSSanté sending to himself (SGL.MSS.19)"))
    elif invisible_to_patient:
        skipped.append(Skipped("patient", "invisible to the patient until told by a professional (INVISIBLE_PATIENT)"))
    else:
        ins = emittable_ins(patient)
        try:
            address = patient_address(str((ins or {}).get("value") or ""), identity_status(patient) == "QUAL")
            chosen[address.lower()] = MailRecipient(address, "patient", "patient")
        except MssMessageInvalid as exc:
            skipped.append(Skipped("patient", exc.diagnostics))
    return RecipientPlan(tuple(chosen.values()), tuple(skipped))
