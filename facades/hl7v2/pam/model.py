"""The typed identity change read from one PAM-FR ADT message, before any FHIR or storage concern.

One message yields one ``IdentityChange``: who (the IPP of the sending domain), what the sender says
about the identity (traits, PID-32 reliability codes, the INS it vouches for) and what to do with it
(``upsert`` a patient, ``merge`` another one into it, ``change-id`` of a patient). ``None`` in a trait
means "not sent": the stored value is kept. The INS is different: the sending domain is the identity
master, so the INS stored after the message is exactly the one the message trusts (SGL.INS.54).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from facades.hl7v2 import AckError, AssigningAuthority, ErrorLocation

ChangeKind = Literal["upsert", "merge", "change-id"]


@dataclass(frozen=True)
class Ipp:
    """The patient's identifier in the sending domain (PID-3 with CX-5 = PI), and where it was read."""

    value: str
    authority: AssigningAuthority
    location: ErrorLocation

    @property
    def system(self) -> str:
        return self.authority.fhir_system

    def query(self) -> str:
        """The FHIR search that finds the Patient holding this IPP."""
        return f"identifier={self.system}|{self.value}"


@dataclass(frozen=True)
class Ins:
    """A matricule INS the sender vouches for (PID-32 = VALI), with its OID and CX-7 effective date."""

    matricule: str
    oid: str
    effective: str | None = None


@dataclass(frozen=True)
class Place:
    """An address or birthplace (PID-11); ``cog`` is the INSEE code of a BDL birthplace."""

    lines: tuple[str, ...] = ()
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    cog: str | None = None


@dataclass(frozen=True)
class Traits:
    """RNIV traits as sent: birth identity (PID-5 type L), used identity (type D), PID-7, PID-8, PID-11."""

    birth_name: str
    first_name: str | None = None
    first_names: tuple[str, ...] = ()
    used_name: str | None = None
    used_first_name: str | None = None
    birth_date: str | None = None
    """A FHIR date, partial (``1979`` / ``1979-03``) when the RNIPP day or month is unknown (ZFD-1)."""
    birth_date_corrected: bool | None = None
    gender: str | None = None
    birthplace: Place | None = None
    home: Place | None = None


@dataclass(frozen=True)
class Collection:
    """How the sender obtained and checked the identity (ZFD-5..7), for the FR Core reliability extension."""

    method: str | None = None
    """ZFD-5: SM, CV, INSI, CB, RFID, AV."""
    insi_date: str | None = None
    """ZFD-6: the date of the INSi call (FHIR date)."""
    proof: str | None = None
    """ZFD-7: the type of identity document checked (CN, PA, ...)."""


@dataclass(frozen=True)
class IdentityChange:
    event: str
    kind: ChangeKind
    ipp: Ipp
    traits: Traits
    status: str
    """RNIV status after the message: QUAL (VALI + INS), VALI, or PROV (traits only)."""
    ins: Ins | None = None
    ins_deleted: bool = False
    """The sender explicitly removed the INS (PID-3 ``""`` with the INS authority; CI-SIS Cons_del_INS)."""
    reliability_codes: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    """PID-32 codes other than a status (DOUT, FICT, HOMD, ...), kept as FR Core comments."""
    collection: Collection = field(default_factory=Collection)
    prior_ipp: Ipp | None = None
    """MRG-1: the merged patient (A40) or the identifier being replaced (A47)."""
    warnings: tuple[AckError, ...] = ()
