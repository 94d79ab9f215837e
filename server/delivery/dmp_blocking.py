"""Whether a report's DMP feeding is blocked, and why (SGL.DMP.02): for its dossier, for its prescriber, or for
one of its analyses.

Read in the transaction that stores the documents (``Outbox.record``), so the answer is the one in force when the
version was stored; the DMP delivery is then written ``blocked`` with the reason (never dropped): a person who
decides it may go after all releases it with ``$delivery-retry`` (``sgl deliveries retry``), and the reason stays
in the delivery's settings for the dashboards and the report's delivery list.

- dossier: the report's ``DMP_BLOQUE`` tag (``dmp_settings.py``);
- prescriber: the requester of each ServiceRequest the report is based on (a Practitioner, an Organization such
  as an intensive care unit, or a PractitionerRole with its practitioner and organization) carrying the
  ``dmp-feeding-blocked`` extension;
- analysis: the catalogue ObservationDefinition (found by its catalogue identifier, the code of the result)
  of any result of the report carrying that extension.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from server.delivery.channel import ReadResource, Resource
from server.delivery.dmp_settings import dmp_block, extension_block
from terminology import CATALOG_SYSTEM

FindDefinitions = Callable[[Sequence[str]], Awaitable[list[Resource]]]
"""``await find(codes)``: the catalogue ObservationDefinitions whose identifier is one of the codes."""
PRESCRIBERS = ("Practitioner", "PractitionerRole", "Organization")


def _reference(holder: Resource, key: str) -> tuple[str, str] | None:
    kind, _, rid = str((holder.get(key) or {}).get("reference", "")).partition("/")
    return (kind, rid) if kind in PRESCRIBERS and rid else None


async def _prescriber_block(report: Resource, read: ReadResource) -> str | None:
    for based in report.get("basedOn", ()):
        kind, _, rid = str(based.get("reference", "")).partition("/")
        request = await read(kind, rid) if kind == "ServiceRequest" else None
        who = _reference(request or {}, "requester")
        while who is not None:
            found = await read(*who)
            reason = extension_block(found)
            if reason is not None:
                return f"prescripteur {who[0]}/{who[1]} : {reason}"
            if who[0] != "PractitionerRole" or found is None:
                break
            for key in ("practitioner", "organization"):  # a role: its professional and its service
                inner = _reference(found, key)
                inner_reason = extension_block(await read(*inner)) if inner else None
                if inner and inner_reason is not None:
                    return f"prescripteur {inner[0]}/{inner[1]} : {inner_reason}"
            break
    return None


async def _analysis_block(report: Resource, read: ReadResource, find: FindDefinitions) -> str | None:
    codes = []
    for ref in report.get("result", ()):
        kind, _, rid = str(ref.get("reference", "")).partition("/")
        observation = await read(kind, rid) if kind == "Observation" else None
        codes += [str(c["code"]) for c in ((observation or {}).get("code") or {}).get("coding", ())
                  if c.get("system") == CATALOG_SYSTEM and c.get("code")]
    for definition in await find(sorted(set(codes))) if codes else []:
        reason = extension_block(definition)
        if reason is not None:
            code = next((str(i.get("value")) for i in definition.get("identifier", ())
                         if i.get("system") == CATALOG_SYSTEM), definition.get("id"))
            return f"analyse {code} : {reason}"
    return None


async def dmp_block_reason(report: Resource, read: ReadResource, find: FindDefinitions) -> str | None:
    """Why DMP feeding of this report is blocked (dossier, prescriber, analysis: the first found), or ``None``."""
    dossier = dmp_block(report)
    if dossier is not None:
        return f"dossier : {dossier}"
    return await _prescriber_block(report, read) or await _analysis_block(report, read, find)
