"""A search by matricule INS (``Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|...``) is held to the rules the
identity search ``$duplicates`` applies (SGL.INS.08: all 15 characters and a valid key, or refused) and needs the
right to see the INS (SGL.INS.05).

Found by probing: the plain FHIR search answered a wrong key or a 13-character matricule with an empty Bundle
(as if no such patient existed), and a role without the INS right (``technicien``) found the patient a matricule
belongs to, by the INS system or by the bare 15 characters: an INS-to-identity look-up the masking was meant to
withhold. Likewise ``_sort=identifier``: the next link's cursor is the last entry's sort key, the first
identifier value, which is the matricule of a patient whose INS comes first (probed: a technicien read it
there, while the entry itself had it masked).
"""

from __future__ import annotations

import re

from resources.errors import InvalidInput, RuleViolation
from resources.ins import INS_TYPE_BY_OID, check_matricule
from resources.interactions.write_rules import AccessCheck, check_access

INS_SYSTEMS = frozenset(f"urn:oid:{oid}" for oid in INS_TYPE_BY_OID)
_LOOKS_LIKE_MATRICULE = re.compile(r"^\d{6}[AB0-9]\d{8}$", re.IGNORECASE)


def check_ins_search(rtype: str, pairs: list[tuple[str, str]], access: AccessCheck | None) -> None:
    """Raise ``RuleViolation`` (SGL.INS.08) or ``Forbidden`` (SGL.INS.05) for a Patient search by matricule INS
    that is incomplete or made by a caller without the ``ins`` right, and ``Forbidden`` for such a caller's
    ``_sort=identifier``; any other search passes untouched."""
    if rtype != "Patient":
        return
    for key, raw in pairs:
        if key == "_sort" and any(p.strip().lstrip("-") == "identifier" for p in raw.split(",")):
            check_access(access, "Patient", "ins")  # the page cursor carries the last entry's sort key
        if key.split(":", 1)[0] != "identifier":
            continue
        for one in raw.split(","):
            system, bar, value = one.rpartition("|")
            if bar and system in INS_SYSTEMS:
                check_access(access, "Patient", "ins")
                if value:  # ``system|`` alone asks for every patient with an INS: no matricule to check
                    complete_matricule(value)
            elif not bar and _LOOKS_LIKE_MATRICULE.match(value.strip()):
                check_access(access, "Patient", "ins")


def complete_matricule(value: str) -> str:
    """The matricule a search may use (15 characters, valid key), upper-cased; ``RuleViolation`` SGL.INS.08 at
    ``identifier`` otherwise. ``Patient/$duplicates`` applies the same rule."""
    size = len(value.strip())
    if size != 15:
        raise RuleViolation("SGL.INS.08", f"a search by matricule INS needs all 15 characters, not {size}",
                            expression="identifier")
    try:
        return check_matricule(value, expression="identifier")
    except InvalidInput as exc:
        raise RuleViolation("SGL.INS.08", exc.diagnostics, expression="identifier") from exc
