"""Specimen labels: a small PDF per tube with the Code 128 barcode of its accession number."""

from facades.pdf.labels.label import LABEL_SIZE_MM, render_specimen_label

__all__ = ["LABEL_SIZE_MM", "render_specimen_label"]
