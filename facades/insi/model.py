"""What goes into and comes out of the INSi teleservice, as plain typed values (no XML, no I/O).

Names follow the INSi schemas (``INSi_RECSANS_INS.xsd``, ``INSi_RECVITALE_INS.xsd``,
``INSi_RESULTAT_INS.xsd``) so that a reader can hold the XSD next to the code. The birth date is
kept as the ``YYYY-MM-DD`` string INSi sends, because RNIPP dates may carry ``00`` for an
unknown day or month and must never be coerced into a calendar date (identity.md §1.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from resources.ins import INS_TYPE_BY_OID, matricule_key


class Operation(StrEnum):
    """INSi operations as named in the WSDL, plus the verification built on the traits search."""

    SEARCH_TRAITS = "rechercherInsAvecTraitsIdentite"
    SEARCH_CARTE_VITALE = "rechercherInsAvecCarteVitale"
    VERIFY = "verifierInsAvecTraitsIdentite"

    @property
    def wire_operation(self) -> Operation:
        """The WSDL operation actually sent: WSDL 1.5.0 has no verification operation of its own."""
        return Operation.SEARCH_TRAITS if self is Operation.VERIFY else self

    @property
    def action(self) -> str:
        """The ``wsa:Action`` / SOAP 1.2 ``action`` of the operation sent on the wire."""
        return f"urn:ServiceIdentiteCertifiee:1.0.0:{self.wire_operation.value}"


class CodeCR(StrEnum):
    """``RESULTAT/CR/CodeCR``: the functional answer code."""

    FOUND = "00"
    NOT_FOUND = "01"
    SEVERAL = "02"


@dataclass(frozen=True)
class Software:
    """The calling software, as ``ContexteLPS/LPS`` declares it to the INSi.

    ``idam`` is the authorisation number the GIE SESAM-Vitale gives the software after the CNDA
    homologation; ``instance`` identifies this installation (one lab site) as a UUID.
    """

    name: str
    version: str
    idam: str
    instance: str


@dataclass(frozen=True)
class Professional:
    """The calling user as PSC (or the CPx card) identified them."""

    national_id: str
    """idNat_PS: ``8`` + RPPS (or ``0`` + ADELI)."""
    name: str
    profession: str
    """TRE_G15 code, e.g. ``21`` pharmacien, ``10`` médecin."""
    specialty: str = ""
    sector: str = ""
    """TRE_R02 activity sector code, e.g. ``SA25`` (laboratoire de biologie médicale)."""


@dataclass(frozen=True)
class Caller:
    """Who asks: the logged-in user and the lab structure, sent in the ``Emetteur`` headers and traced.

    With ``professional`` (the user as PSC identified them) the request carries a VIHF naming them in
    ``wsse:Security`` (SGL.INS.48), issued by ``vihf_issuer`` (the organisation certificate's subject DN)."""

    user: str
    structure: str
    professional: Professional | None = None
    vihf_issuer: str = ""


@dataclass(frozen=True)
class TraitsQuery:
    """``RECSANSVITALE``: a search by identity traits (name, first name(s), sex, birth date, place)."""

    birth_name: str
    first_names: tuple[str, ...]
    sex: str
    birth_date: str
    birthplace: str | None = None


@dataclass(frozen=True)
class Matricule:
    """A ``Matricule`` element: 13 characters, its 2-digit key and optional type, as on the wire."""

    number: str
    key: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class CarteVitaleQuery:
    """``RECVITALE``: the beneficiary data read from a carte Vitale."""

    birth_name: str
    birth_date: str
    birth_rank: str
    individual: Matricule | None = None
    insured: Matricule | None = None


@dataclass(frozen=True)
class Ins:
    """One ``INSACTIF`` / ``INSHISTO`` entry."""

    number: str
    key: str
    oid: str
    start: str | None = None
    end: str | None = None

    @property
    def matricule(self) -> str:
        """The 15-character matricule INS (13 + key) used in FHIR, HL7 and documents."""
        return self.number + self.key

    @property
    def kind(self) -> str:
        """INS-NIR, INS-NIA, ... from the OID; ``unknown`` for an OID that is not an INS authority."""
        return INS_TYPE_BY_OID.get(self.oid, "unknown")

    @property
    def key_is_consistent(self) -> bool:
        """Whether the key is 97 - (N mod 97); CNDA test 2.08 case 2 sends one that is not."""
        return self.key.isdigit() and int(self.key) == matricule_key(self.number)


@dataclass(frozen=True)
class Traits:
    """``TIQ``: the reference identity traits returned by INSi; empty strings when absent."""

    birth_name: str
    first_name: str
    first_names: str
    sex: str
    birth_date: str
    birthplace: str

    @property
    def first_names_list(self) -> tuple[str, ...]:
        """The birth first names, which INSi sends space-separated in ``ListePrenom``."""
        return tuple(self.first_names.split())

    @property
    def first_first_name(self) -> str:
        """``Prenom`` when sent, else the first name of ``ListePrenom``."""
        names = self.first_names_list
        return self.first_name or (names[0] if names else "")


@dataclass(frozen=True)
class Identity:
    """``INDIVIDU``: the active INS, its history and the traits."""

    active: Ins
    traits: Traits
    history: tuple[Ins, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Result:
    """``RESULTAT``: the answer code and label, and the identity when the code is 00."""

    code: str
    label: str
    identity: Identity | None = None

    @property
    def found(self) -> bool:
        return self.code == CodeCR.FOUND and self.identity is not None

    @property
    def summary(self) -> str:
        """One line for the trace: the code, the label and, for 00, the INS returned."""
        text = f"{self.code} {self.label}"
        if self.identity is not None:
            text += f" INS {self.identity.active.matricule} ({self.identity.active.oid})"
        return text


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying a stored INS against the INSi: OK, or KO with the reasons."""

    ok: bool
    reasons: tuple[str, ...]
    result: Result

    @property
    def status(self) -> str:
        return "OK" if self.ok else "KO"

    @property
    def summary(self) -> str:
        """One line for the trace: OK, or KO with every reason."""
        return "OK" if self.ok else "KO: " + "; ".join(self.reasons)
