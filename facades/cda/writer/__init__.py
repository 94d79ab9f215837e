"""CR-Bio CDA writer: FHIR resources -> CDA R2 N3 (CI-SIS CR-BIO 2024.01, with its PDF copy) and N1."""

from facades.cda.writer.cdaxml import is_oid
from facades.cda.writer.model import CrBioInput, DocumentVersion, Mentions, Party, SubcontractedPdf
from facades.cda.writer.n1 import write_n1
from facades.cda.writer.n3 import write_n3

__all__ = ["CrBioInput", "DocumentVersion", "Mentions", "Party", "SubcontractedPdf", "is_oid", "write_n1", "write_n3"]
