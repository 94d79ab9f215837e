"""What a DMP submission is made of, as frozen dataclasses (no XML, no I/O).

A :class:`Submission` carries one CR-Bio version (its N3 CDA and its N1 PDF, each a
:class:`Document`), the patient's INS, the author, the structure, the dossier's visibility settings
(:class:`Visibility`, SGL.DOC.15/16) and, for a correction, the uniqueIds of the version it
replaces. The sender of the VIHF is a :class:`VihfSubject`: the authenticated biologist, or the
lab's ``AUTOMATE`` identity for automatic sending (TD0.9 / VIHF 3.0).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from facades.dmp import codes

Code = tuple[str, str, str]  # (code, codingScheme, displayName)
ENTRY_NAMESPACE = uuid.UUID("5b0c4f0e-6a52-4a8e-9d0c-6f2f1f0d2d11")


def entry_uuid(unique_id: str) -> str:
    """The DocumentEntry entryUUID of a document uniqueId: stable, so that a resend after a lost answer
    is the same entry (the registry recognises it) and a replacement can name its target without a query."""
    return f"urn:uuid:{uuid.uuid5(ENTRY_NAMESPACE, unique_id)}"


class Kind(Enum):
    """The two renderings of a CR-Bio sent to the DMP (SGL.DMP.01)."""

    N3 = "N3"
    N1 = "N1"

    @property
    def format_code(self) -> Code:
        return codes.FORMAT_N3 if self is Kind.N3 else codes.FORMAT_N1

    @property
    def mime_type(self) -> str:
        return "text/xml" if self is Kind.N3 else "application/pdf"


@dataclass(frozen=True)
class Document:
    """One document of the submission; ``unique_id`` is the CDA ``id`` (an OID, or ``root^extension``)."""

    kind: Kind
    unique_id: str
    content: bytes
    title: str
    creation_time: datetime
    service_start: datetime | None = None
    service_stop: datetime | None = None
    replaces: str | None = None  # uniqueId of the version this one replaces (RPLC)


@dataclass(frozen=True)
class Visibility:
    """The dossier's DMP settings (SGL.DOC.15, DOC.16): masking and visibility, and the secret connection."""

    masked_to_professionals: bool = False
    hidden_from_patient: bool = False
    hidden_from_legal_representatives: bool = False
    secret_connection: bool = False

    def confidentiality(self) -> list[Code]:
        """``N`` first, then the JDV_J58 codes the settings call for."""
        out: list[Code] = [codes.NORMAL]
        system = codes.CONFIDENTIALITY_SYSTEM
        if self.masked_to_professionals:
            out.append((codes.MASQUE_PS, system, "Document masqué aux professionnels de santé"))
        if self.hidden_from_patient:
            out.append((codes.INVISIBLE_PATIENT, system, "Document non visible par le patient"))
        if self.hidden_from_legal_representatives or self.secret_connection:
            out.append((codes.INVISIBLE_REPRESENTANTS_LEGAUX, system,
                        "Document non visible par les représentants légaux du patient"))
        return out


@dataclass(frozen=True)
class Person:
    """An author: national id (``8`` + RPPS), names, profession (TRE_G15) and specialty (TRE_R38)."""

    national_id: str
    family: str
    given: str
    profession: str = "21"
    specialty: str = ""

    @property
    def xcn(self) -> str:
        """HL7 v2 XCN as XDS wants it: ``id^FAMILY^Given^^^^^^&1.2.250.1.71.4.2.1&ISO``."""
        return f"{self.national_id}^{self.family}^{self.given}^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"


@dataclass(frozen=True)
class Structure:
    """The lab as the DMP knows it: ``identifier`` is Identifiant_Structure (``3`` + FINESS, ``4`` + SIRET...)."""

    identifier: str
    name: str
    sector: Code = ("SA25", codes.SECTOR_SYSTEM, "Laboratoire de biologie médicale")  # JDV_J02 (SA29: "d'analyses")
    practice_setting: Code = ("AMBULATOIRE", codes.PRACTICE_SYSTEM, "Ambulatoire")
    content_type: Code = ("07", codes.CONTENT_TYPE_SYSTEM, "Consultation externe")

    @property
    def xon(self) -> str:
        return f"{self.name}^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^{self.identifier}"


@dataclass(frozen=True)
class Software:
    """The LPS attributes of the VIHF."""

    name: str
    version: str
    lps_id: str = ""
    homologation: str = ""


@dataclass(frozen=True)
class VihfSubject:
    """Who the VIHF names. Use :meth:`professional` for a biologist, :meth:`automate` for automatic sending."""

    name_id: str
    subject_name: str
    roles: tuple[Code, ...]
    authn_class: str

    @classmethod
    def professional(cls, person: Person, *, authn_class: str = "urn:oasis:names:tc:SAML:2.0:ac:classes:"
                     "MobileTwoFactorUnregistered") -> VihfSubject:
        roles: list[Code] = [(person.profession, "1.2.250.1.71.1.2.7", "Profession")]
        if person.specialty:
            roles.append((person.specialty, "1.2.250.1.71.4.2.5", "Savoir-faire"))
        return cls(person.national_id, f"{person.family} {person.given}", tuple(roles), authn_class)

    @classmethod
    def automate(cls, responsible_id: str, description: str) -> VihfSubject:
        """The lab's automatic sender; ``responsible_id`` names the person responsible for the processing."""
        return cls(responsible_id, description, (("AUTOMATE", "1.2.250.1.213.1.1.4.6", "Automate"),),
                   "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified")


@dataclass(frozen=True)
class Submission:
    """One ITI-41: the documents of one CR-Bio version for one patient."""

    ins: str
    ins_oid: str
    documents: tuple[Document, ...]
    author: Person
    structure: Structure
    visibility: Visibility = field(default_factory=Visibility)
    submission_time: datetime | None = None

    @property
    def patient_id(self) -> str:
        return f"{self.ins}^^^&{self.ins_oid}&ISO^NH"


@dataclass(frozen=True)
class Receipt:
    """What the DMP accepted: the uniqueIds and entryUUIDs registered, and whether some were already there."""

    submission_set: str
    entries: dict[str, str]
    already_registered: bool = False
    response: bytes = b""
