"""Annuaire Santé public extractions (ANS): streaming reader and FHIR mapping.

``open_extractions(path)`` opens a ``.txt`` extraction or a zip of them (MSSanté one first) as
``Source`` objects; ``rows(source.lines)`` yields ``Row`` (fields by normalized header name) or
``Rejected`` (line number + reason). ``activity(row, mssante)`` turns a ``PS_LibreAcces_Personne_activite``
line into a Practitioner, PractitionerRole and Organization (FR Core identifiers, NOS TRE_G15 / TRE_R38 /
TRE_R23 / TRE_R85 codings); ``mssante_entry(row)`` turns a correspondence line into a look-up document.
Both raise ``LineRefused`` with the reason. No I/O beyond reading the file; no server import.
"""

from facades.annuaire.mssante import entry as mssante_entry
from facades.annuaire.practitioners import (
    Activity,
    LineRefused,
    activity,
    merge_qualifications,
    mssante_telecom,
    organization_id,
    practitioner_id,
)
from facades.annuaire.reader import (
    MSS_KIND,
    PS_KIND,
    ExtractionError,
    Rejected,
    Row,
    Source,
    norm,
    open_extractions,
    rows,
)
from facades.annuaire.systems import IDNPS_SYSTEM, RPPS_SYSTEM, SOURCE, TAG_CODE, TAG_SYSTEM

__all__ = ["IDNPS_SYSTEM", "MSS_KIND", "PS_KIND", "RPPS_SYSTEM", "SOURCE", "TAG_CODE", "TAG_SYSTEM", "Activity",
           "ExtractionError", "LineRefused", "Rejected", "Row", "Source", "activity", "merge_qualifications",
           "mssante_entry", "mssante_telecom", "norm", "open_extractions", "organization_id", "practitioner_id",
           "rows"]
