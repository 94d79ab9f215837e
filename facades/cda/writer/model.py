"""``CrBioInput``: the FHIR resources one CR-Bio is written from, gathered by the caller.

The writer never queries a store: the server collects the DiagnosticReport and everything it
points to, so the facade stays a pure translation (and is testable on plain dicts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resources.errors import InvalidInput

Resource = dict[str, Any]


@dataclass(frozen=True)
class Party:
    """A person in a role: the Practitioner and, when known, its PractitionerRole and Organization.

    The role carries the MSSanté address (``telecom`` with ``system = email``) and the specialty;
    the organization is the practice the person works for.
    """

    practitioner: Resource
    role: Resource | None = None
    organization: Resource | None = None

    @property
    def telecom(self) -> list[dict[str, Any]]:
        return list((self.role or {}).get("telecom", [])) + list(self.practitioner.get("telecom", []))


@dataclass(frozen=True)
class DocumentVersion:
    """Identity of this document in its set: ids are OIDs (``root``) plus an extension.

    ``replaces`` is the id extension of the version this one replaces (RPLC), None for a first one.
    """

    root: str
    document_id: str
    set_id: str
    number: int = 1
    replaces: str | None = None


@dataclass(frozen=True)
class Mentions:
    """What the lab prints on every CR-Bio, written in the N3 narrative as on the PDF (SGL.DOC.08-10).

    ``autoverification`` is printed iff a documented result is in ``CrBioInput.autoverified``; the
    Cofrac paragraph iff one is in ``CrBioInput.accredited`` (and then ``cofrac_number`` is required);
    ``rgpd`` always when set.
    """

    rgpd: str = ""
    autoverification: str = ""
    cofrac_number: str | None = None
    cofrac_activity: str = "Examens de biologie médicale"
    cofrac_scope: str = "Portée d'accréditation disponible sur www.cofrac.fr"
    copy: str = ""
    """Which copy this document is when the lab makes two (patient / professional, SGL.DOC.02), printed first;
    empty for a lab's single version."""


@dataclass(frozen=True)
class SubcontractedPdf:
    """A subcontracting lab's own report, embedded as PDF in our N3 (first option of SGL.DOC.13)."""

    laboratory: Resource
    pdf: bytes
    title: str = "Compte rendu du laboratoire sous-traitant"


@dataclass(frozen=True)
class CrBioInput:
    """Everything a CR-Bio N3/N1 is made of, as FHIR R4 JSON dicts.

    - ``observations``: every Observation the report reaches (results, battery members, isolates,
      antibiograms), looked up by ``Observation/<id>``;
    - ``organizations``: the laboratory, subcontracting labs and recipients' organizations,
      looked up by ``Organization/<id>`` from ``Observation.performer``;
    - ``recipients``: each person or organization the report goes to (one informationRecipient
      each, SGL.DOC.07), as ``Party``; an organization-only recipient has an empty practitioner;
    - ``pdf``: the PDF/A copy embedded in the "Copie du document" section (mandatory in N3 2024.01);
    - ``subcontracted_pdfs``: subcontractors' reports kept as PDF (e.g. from ``read_crbio``), each in
      a "seconde intention" section naming the lab and its contact details;
    - ``mentions``, ``accredited``, ``autoverified``: the RGPD, autoverification and Cofrac mentions.
    """

    report: Resource
    patient: Resource
    laboratory: Resource
    biologist: Party
    requester: Party
    version: DocumentVersion
    observations: list[Resource] = field(default_factory=list)
    specimens: list[Resource] = field(default_factory=list)
    organizations: list[Resource] = field(default_factory=list)
    recipients: list[Party] = field(default_factory=list)
    service_request: Resource | None = None
    pdf: bytes | None = None
    subcontracted_pdfs: list[SubcontractedPdf] = field(default_factory=list)
    confidentiality: str = "N"
    mentions: Mentions = field(default_factory=Mentions)
    accredited: frozenset[str] = frozenset()
    """Ids of the Observations covered by the lab's Cofrac accreditation (marked ``*``, SGL.DOC.10)."""
    autoverified: frozenset[str] = frozenset()
    """Ids of the Observations validated by the rules with no later biologist review (SGL.DOC.09)."""
    identifier_oids: dict[str, str] = field(default_factory=dict)
    """Patient identifier system (or bare authority id) -> the OID the lab registered for that domain: an
    IPP whose assigning authority is not an ISO OID (PAM-FR ``CHU-X&000897406&N``) is written with it."""

    def resolve(self, reference: dict[str, Any] | None, *, expression: str) -> Resource:
        """The resource a FHIR Reference points to, among the ones gathered here."""
        ref = (reference or {}).get("reference", "")
        kind, _, ident = ref.partition("/")
        pool = {"Observation": self.observations, "Specimen": self.specimens,
                "Organization": [self.laboratory, *self.organizations]}.get(kind, [])
        for resource in pool:
            if resource.get("id") == ident:
                return resource
        raise InvalidInput(f"reference {ref!r} is not among the resources given to the CR-Bio writer",
                           expression=expression)
