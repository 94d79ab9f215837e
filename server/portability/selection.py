"""What an export takes: the resource types, the patients (their compartment), the depth in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from resources.errors import InvalidInput
from resources.search.params import RESOURCE_TYPES

COMPARTMENT = ("Patient", "Encounter", "ServiceRequest", "Specimen", "Observation", "DiagnosticReport",
               "DocumentReference", "Consent", "Task")
"""The types of the Patient compartment this server keeps (a Patient-level export takes only these)."""
_PATIENT_LINKS = ("r.subject.reference", "r.patient.reference", "r.for.reference")
MAX_YEARS = 20


@dataclass(frozen=True)
class Selection:
    level: str = "system"
    """``system`` (the whole store) or ``patient`` (the Patient compartment)."""
    types: tuple[str, ...] = ()
    patients: tuple[str, ...] = ()
    """Patient ids; empty = every patient."""
    since: datetime | None = None
    crbio: bool = False
    """Also write the CR-Bio documents as files (N3/N1 XML, PDF) with their manifest."""

    def order(self) -> tuple[str, ...]:
        allowed = COMPARTMENT if self.level == "patient" or self.patients else RESOURCE_TYPES
        return tuple(t for t in allowed if not self.types or t in self.types)

    def query(self, rtype: str) -> dict[str, Any]:
        """The MongoDB filter of ``rtype`` (current versions, on indexed fields)."""
        query: dict[str, Any] = {}
        if self.since is not None:
            query["lu"] = {"$gte": self.since}
        if self.level == "patient" or self.patients:
            if rtype == "Patient":
                if self.patients:
                    query["_id"] = {"$in": list(self.patients)}
            else:
                refs: dict[str, Any] = ({"$in": [f"Patient/{p}" for p in self.patients]} if self.patients
                                        else {"$regex": "^Patient/"})
                query["$or"] = [{link: refs} for link in _PATIENT_LINKS]
        return query

    def document(self) -> dict[str, Any]:
        return {"level": self.level, "types": list(self.types), "patients": list(self.patients),
                "since": self.since, "crbio": self.crbio}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Selection:
        return cls(doc["level"], tuple(doc["types"]), tuple(doc["patients"]), doc.get("since"), doc["crbio"])


def checked(selection: Selection) -> Selection:
    unknown = [t for t in selection.types if t not in RESOURCE_TYPES]
    if unknown:
        raise InvalidInput(f"_type: unknown or not exported resource types {unknown}", expression="_type")
    return selection


def years_back(now: datetime, years: int) -> datetime:
    """The start of a depth of ``years`` (1..20) before ``now``."""
    if not 1 <= years <= MAX_YEARS:
        raise InvalidInput(f"the depth is 1 to {MAX_YEARS} years", expression="years")
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


