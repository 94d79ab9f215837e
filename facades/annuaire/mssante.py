"""One line of ``Extraction_Correspondance_MSSante`` as a look-up entry: the MSSanté mailbox, its type
(``PER`` a person, ``ORG`` an organization, ``APP`` an application), the holder's national PS id and
name, the structure, and where it is (postal code, town, department) so that a correspondent can be
found by id or by name and place (SGL.ANN.05).

The exact header spelling was not seen in an official sample: columns are found by normalized name,
with the few spellings known.
"""

from __future__ import annotations

import re
from typing import Any

from facades.annuaire.practitioners import LineRefused
from facades.annuaire.reader import Row, norm

_ADDRESS = re.compile(r"^[^@\s|]+@[^@\s|]+\.[^@\s|]+$")


def _first(row: Row, *names: str) -> str:
    for name in names:
        value = row.get(name)
        if value:
            return value
    return ""


def _town(row: Row) -> tuple[str, str]:
    """(postal code, town) from "Code postal" and the routing line ``89300 JOIGNY``."""
    routing = _first(row, "L6LIGNEACHEMINEMENT", "Ligne acheminement")
    postal = _first(row, "Code postal")
    match = re.match(r"^\s*(\d{5})\s+(.*)$", routing)
    if match:
        return postal or match.group(1), match.group(2).strip()
    return postal, routing


def entry(row: Row) -> dict[str, Any]:
    """The stored look-up document of one mailbox (``_id`` = the address, lower case)."""
    address = _first(row, "Adresse BAL")
    if not _ADDRESS.match(address):
        raise LineRefused(f"'Adresse BAL' {address!r} is not a mail address")
    kind = _first(row, "Type de BAL").upper() or "PER"
    postal, town = _town(row)
    family, given = _first(row, "Nom d'exercice"), _first(row, "Prénom d'exercice")
    doc: dict[str, Any] = {
        "_id": address.lower(), "address": address, "kind": kind,
        "idnat": _first(row, "Identification nationale PP") or None,
        "family": family, "given": given, "family_key": norm(family), "given_key": norm(given),
        "profession": _first(row, "Code Profession"), "profession_label": _first(row, "Libellé Profession"),
        "structure": _first(row, "Identification Structure"),
        "structure_name": _first(row, "Raison Sociale structure BAL", "Enseigne commerciale structure BAL"),
        "service": _first(row, "Service de rattachement"),
        "postal_code": postal, "town": town, "town_key": norm(town),
        "department": _first(row, "Département") or postal[:2],
        "dematerialisation": _first(row, "Dématérialisation"),
    }
    if kind == "PER" and not doc["idnat"]:
        raise LineRefused("a personal mailbox (PER) without 'Identification nationale PP'")
    return doc
