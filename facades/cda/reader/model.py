"""``SubcontractedReport``: what a subcontractor's CR-Bio brings into our file, as FHIR JSON dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Resource = dict[str, Any]


@dataclass(frozen=True)
class DocumentPatient:
    """Who the document is about, as its ``recordTarget`` says (RNIV strict traits and the INS).

    ``ins`` is (OID, matricule) when an id under an INS OID is present; ``first_names`` is the list of
    birth first names (unqualified ``given``), ``first_name`` the first one (``given`` BR); ``birth_date``
    is a FHIR date (``1979-03-28``, or shorter when the document's TS is); ``sex`` the CDA code (M, F, U).
    """

    birth_name: str | None = None
    first_name: str | None = None
    first_names: tuple[str, ...] = ()
    birth_date: str | None = None
    sex: str | None = None
    ins: tuple[str, str] | None = None


@dataclass(frozen=True)
class SubcontractedReport:
    """A read CR-Bio (N3 or N1) or a plain PDF, ready to be integrated into our report.

    - ``observations``: one Observation per result, battery and isolate (batteries and isolates
      point to their members with ``hasMember``), each with ``performer`` -> the executing lab and
      ``specimen`` -> one of ``specimens``; references are local (``Observation/cda-obs-3``) and
      the caller rewrites them when it stores the resources;
    - ``organizations``: the executing laboratories named by the document;
    - ``order_number``: the request number (``inFulfillmentOf/order/id``) to match our order on;
    - ``pdf``: the PDF copy (N3 section "Copie du document", N1 body, or the PDF itself);
      ``attachments``: every other embedded PDF (e.g. a 2nd-intention lab's report);
    - ``patient``: the identity the document names, for the caller to compare with its own patient.
    """

    level: Literal["N3", "N1", "PDF"]
    document_id: str | None = None
    set_id: str | None = None
    version: int | None = None
    order_number: str | None = None
    patient_identifiers: tuple[Resource, ...] = ()
    observations: tuple[Resource, ...] = ()
    specimens: tuple[Resource, ...] = ()
    organizations: tuple[Resource, ...] = ()
    pdf: bytes | None = None
    attachments: tuple[bytes, ...] = field(default_factory=tuple)
    patient: DocumentPatient | None = None
    """None for a plain PDF, which carries no structured identity."""
