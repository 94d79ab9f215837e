"""CR-Bio reader: a subcontractor's CDA (N3, N1, self-presenting) or PDF -> FHIR resources to integrate."""

from facades.cda.reader.model import DocumentPatient, SubcontractedReport
from facades.cda.reader.read import read_crbio

__all__ = ["DocumentPatient", "SubcontractedReport", "read_crbio"]
