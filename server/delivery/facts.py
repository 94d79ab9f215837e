"""What the dashboards (SGL.TBB.01-03, ``server/dashboard``) count, fixed when a CR-Bio version is stored.

Why stamped at write time rather than looked up per view: a dashboard over a year must be one aggregation
on indexed fields of two collections, not a join with every report, patient and practitioner. So, in the
transaction that stores a version (``Outbox.record``), the outbox writes

- on every delivery, ``facts`` (the site's FINESS, the validating biologist's RPPS, whether the patient's
  INS was qualified, whether the report has subcontracted results, its DMP masking) and ``route``
  (``dmp``, ``mss-pro``, ``mss-patient``, ``dpi``: the channel as the dashboards name it);
- one line per produced version in ``crbio_versions`` (``<report>:v<n>``, its date and the same facts).

The facts are a snapshot like the delivery settings: a later re-qualification of the patient does not
rewrite the past months' counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from resources.ins import identity_status
from resources.store.base import StoreSession
from server.delivery.channel import DeliverySettings, ReadResource, Resource

VERSIONS = "crbio_versions"
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
ROUTES = ("dmp", "mss-pro", "mss-patient", "dpi")
"""The dashboards' channels, in their column order."""
_CHANNEL_ROUTES = {"dmp": "dmp", "hl7v2": "dpi"}
MAX_RESULTS_READ = 500
"""Results read to tell whether a report has subcontracted analyses (a report has tens at most)."""


@dataclass(frozen=True)
class Site:
    """The producing site: its FINESS géographique and the biologist answering for automatic validations."""

    finess: str = ""
    responsible_rpps: str = ""

    @classmethod
    def from_profile(cls, profile: dict[str, Any]) -> Site:
        return cls(str(profile.get("finess", "")), str((profile.get("responsible_biologist") or {}).get("rpps", "")))


def route_of(channel: str, recipient: str) -> str:
    """``mss-patient`` for the patient's own MSSanté box (recipient ``patient:Patient/<id>``), ``mss-pro`` for
    a professional's, ``dpi`` for HL7 v2 to a hospital EHR, ``dmp``; another channel keeps its name."""
    if channel == "mssante":
        return "mss-patient" if recipient.startswith("patient:") else "mss-pro"
    return _CHANNEL_ROUTES.get(channel, channel)


def _rpps(practitioner: Resource | None) -> str:
    return next((str(i.get("value", "")) for i in (practitioner or {}).get("identifier", ())
                 if i.get("system") == RPPS_SYSTEM and i.get("value")), "")


async def facts_of(report: Resource, patient: Resource, settings: DeliverySettings, read: ReadResource,
                   site: Site) -> dict[str, Any]:
    """The dashboard facts of this version (reads the validating Practitioner and the results, in the
    storing transaction)."""
    interpreter = next((str(r["reference"]).partition("/")[2] for r in report.get("resultsInterpreter", ())
                        if str(r.get("reference", "")).startswith("Practitioner/")), "")
    rpps = _rpps(await read("Practitioner", interpreter)) if interpreter else ""
    subcontracted = False
    for ref in report.get("result", ())[:MAX_RESULTS_READ]:
        kind, _, rid = str(ref.get("reference", "")).partition("/")
        observation = await read(kind, rid) if kind == "Observation" and rid else None
        performers = (observation or {}).get("performer", ())
        if any(str(p.get("reference", "")).startswith("Organization/") for p in performers):
            subcontracted = True
            break
    return {"finess": site.finess, "rpps": rpps or site.responsible_rpps,
            "ins": identity_status(patient) == "QUAL" if patient else False,
            "subcontracted": subcontracted, "masked": settings.masked_to_professionals,
            "invisible": settings.invisible_to_patient}


async def record_version(db: Any, session: StoreSession | None, report: Resource, version: int, patient: str,
                         facts: dict[str, Any], produced: datetime) -> None:
    """One line per produced version (idempotent: a replayed step keeps the first)."""
    line = {"report_id": report["id"], "version": version, "patient": patient, "produced": produced, **facts}
    await db[VERSIONS].update_one({"_id": f"{report['id']}:v{version}"}, {"$setOnInsert": line}, upsert=True,
                                  session=session)
