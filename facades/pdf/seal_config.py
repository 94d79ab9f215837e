"""Where the CR-Bio seal's files are (SGL.DOC.19), apart from ``seal.py`` so that naming the setting costs
nothing: pyHanko (≈1 s to import) is loaded only by a server or document process that seals."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SealConfig:
    """The structure's ORG SIGN certificate, its key and the issuing chain, as plain paths (picklable: crosses
    the process-pool boundary with each job)."""

    cert: Path
    key: Path
    chain: Path | None = None
