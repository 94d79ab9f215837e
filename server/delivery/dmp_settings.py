"""Where the DMP settings live (SGL.DOC.15, DMP.02): on the report, as FHIR security labels and a tag, and on the
prescriber or the analysis, as an extension.

- masking / visibility: ``DiagnosticReport.meta.security`` codings of JDV_J58 / TRE_A07
  (``urn:oid:1.2.250.1.213.1.1.4.13``): ``MASQUE_PS``, ``INVISIBLE_PATIENT``, ``INVISIBLE_REPRESENTANTS_LEGAUX``;
- DMP feeding blocked for this dossier: ``meta.tag`` ``DMP_BLOQUE`` of :data:`BLOCK_SYSTEM`, its ``display``
  the reason (for example "expertise assurance");
- blocked for every dossier of a prescriber (``Practitioner``, ``PractitionerRole``, ``Organization``: an ICU)
  or of an analysis (its catalogue ``ObservationDefinition``): the extension :data:`BLOCK_EXTENSION`, its
  ``valueString`` the reason. Setting or lifting it needs the ``dmp-block`` permission (``dmp_block_rule.py``);
  how a report is checked against them: ``dmp_blocking.py``.

Security labels because they are what FHIR carries for confidentiality, travel with the report through every
interaction and are read by the outbox when it snapshots the settings of a stored version
(:func:`server.delivery.outbox.settings_for`).
"""

from __future__ import annotations

from typing import Any, TypedDict

VISIBILITY_SYSTEM = "urn:oid:1.2.250.1.213.1.1.4.13"
BLOCK_SYSTEM = "https://opensgl.org/fhir/CodeSystem/dmp-feeding"
BLOCKED = "DMP_BLOQUE"
BLOCK_EXTENSION = "https://opensgl.org/fhir/StructureDefinition/dmp-feeding-blocked"


class VisibilityFlags(TypedDict):
    """``DeliverySettings`` keywords: ``DeliverySettings(**dmp_visibility(report))``."""

    masked_to_professionals: bool
    invisible_to_patient: bool
    invisible_to_legal_representatives: bool


def dmp_visibility(report: dict[str, Any]) -> VisibilityFlags:
    """The masking / visibility flags the report's security labels ask for."""
    codes = {s.get("code") for s in (report.get("meta") or {}).get("security", ())
             if s.get("system") == VISIBILITY_SYSTEM}
    return VisibilityFlags(masked_to_professionals="MASQUE_PS" in codes,
                           invisible_to_patient="INVISIBLE_PATIENT" in codes,
                           invisible_to_legal_representatives="INVISIBLE_REPRESENTANTS_LEGAUX" in codes)


def dmp_block(report: dict[str, Any]) -> str | None:
    """The reason DMP feeding is blocked for this dossier, or ``None`` when it is not."""
    for tag in (report.get("meta") or {}).get("tag", ()):
        if tag.get("system") == BLOCK_SYSTEM and tag.get("code") == BLOCKED:
            return str(tag.get("display") or "bloqué")
    return None


def extension_block(resource: dict[str, Any] | None) -> str | None:
    """The reason a prescriber or an analysis has DMP feeding blocked, or ``None``."""
    for ext in (resource or {}).get("extension", ()):
        if ext.get("url") == BLOCK_EXTENSION:
            return str(ext.get("valueString") or "bloqué")
    return None
