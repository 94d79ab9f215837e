"""PAM-FR identity feed, pure: an ADT message -> a typed ``IdentityChange`` -> a FHIR Patient.

No asyncio and no storage here; the server's identity-feed handler finds the Patient, applies the
change through the write rules and acknowledges. Other packages import the names below only.
"""

from facades.hl7v2.pam.errors import (
    APPLICATION_INTERNAL_ERROR,
    DUPLICATE_KEY_IDENTIFIER,
    UNKNOWN_KEY_IDENTIFIER,
    PamRuleViolation,
    location_of,
)
from facades.hl7v2.pam.events import EVENT_KINDS, SUPPORTED_EVENTS, read_identity_change
from facades.hl7v2.pam.model import ChangeKind, Collection, IdentityChange, Ins, Ipp, Place, Traits
from facades.hl7v2.pam.patient import (
    BIRTH_DATE_CORRECTED_URL,
    apply_change,
    ipp_identifier,
    merged_into,
    reliability_extension,
    replacing,
    with_ipp,
)

__all__ = [
    "APPLICATION_INTERNAL_ERROR",
    "BIRTH_DATE_CORRECTED_URL",
    "DUPLICATE_KEY_IDENTIFIER",
    "EVENT_KINDS",
    "SUPPORTED_EVENTS",
    "UNKNOWN_KEY_IDENTIFIER",
    "ChangeKind",
    "Collection",
    "IdentityChange",
    "Ins",
    "Ipp",
    "PamRuleViolation",
    "Place",
    "Traits",
    "apply_change",
    "ipp_identifier",
    "location_of",
    "merged_into",
    "read_identity_change",
    "reliability_extension",
    "replacing",
    "with_ipp",
]
