"""The ANS value sets shipped in the shared kits (IHE SVS files of ``kits/ans-cda-testkit/jeuxDeValeurs``), read
where they are, never copied into the project: what a code sent in XDS metadata must be a member of."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

SHARED = Path("/work/shared")
JDV = SHARED / "kits/ans-cda-testkit/jeuxDeValeurs"


def value_set(name: str) -> dict[tuple[str, str], str]:
    """(code, codeSystem) -> displayName of an IHE SVS value set file of the kit."""
    root = ElementTree.parse(JDV / name).getroot()
    return {(str(c.get("code")), str(c.get("codeSystem"))): str(c.get("displayName"))
            for c in root.iter("{urn:ihe:iti:svs:2008}Concept")}
