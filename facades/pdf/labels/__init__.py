"""Labels: a small PDF per tube with the Code 128 barcode of its accession number, and the identity
label of a qualified patient with its INS Datamatrix."""

from facades.pdf.labels.identity import IDENTITY_LABEL_SIZE_MM, render_identity_label
from facades.pdf.labels.label import LABEL_SIZE_MM, render_specimen_label

__all__ = ["IDENTITY_LABEL_SIZE_MM", "LABEL_SIZE_MM", "render_identity_label", "render_specimen_label"]
