"""The text of a PDF as a reader sees it (poppler's ``pdftotext``), whitespace folded to single spaces,
so tests can look for a phrase without depending on line breaks."""

from __future__ import annotations

import subprocess


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60)
    return " ".join(done.stdout.decode().split())
