"""MSSanté address look-up in the loaded correspondence extraction (SGL.ANN.05): by national PS id (or an
11-digit RPPS), or by name (exact, case and accents ignored) and place (postal code, department or town).
A name alone is refused: the directory has thousands of "MARTIN", the place narrows it to one person."""

from __future__ import annotations

import re
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from facades.annuaire import norm
from server.annuaire.report import MSSANTE

MAX_MATCHES = 50
_PROJECTION = {"_id": 0, "run": 0, "family_key": 0, "given_key": 0, "town_key": 0}


def _place(place: str) -> dict[str, Any]:
    place = place.strip()
    if re.fullmatch(r"\d{5}", place):
        return {"postal_code": place}
    if re.fullmatch(r"\d{2,3}|2[AB]", place, re.IGNORECASE):
        return {"department": place.upper()}
    return {"town_key": norm(place)}


async def lookup(db: AsyncDatabase[Any], *, identifier: str | None = None, family: str | None = None,
                 given: str | None = None, place: str | None = None) -> list[dict[str, Any]]:
    """The matching mailboxes (at most ``MAX_MATCHES``), persons first."""
    if identifier:
        ident = identifier.strip()
        if re.fullmatch(r"\d{11}", ident):
            ident = "8" + ident
        if not re.fullmatch(r"[0-9A-Z]{10,12}", ident):
            raise ValueError("identifier: a national PS id (8 + RPPS, 0 + ADELI) or an 11-digit RPPS")
        query: dict[str, Any] = {"idnat": ident}
    elif family and place:
        query = {"family_key": norm(family), **_place(place)}
        if given:
            query["given_key"] = norm(given)
    else:
        raise ValueError("give an identifier (RPPS/ADELI), or a name and a place (postal code, department or town)")
    cursor = db[MSSANTE].find(query, projection=_PROJECTION).sort([("kind", -1), ("address", 1)]).limit(MAX_MATCHES)
    return [doc async for doc in cursor]


def as_parameters(found: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``match`` per mailbox: address, type, national id, name, structure, place."""
    matches = []
    for doc in found:
        parts = [{"name": "address", "valueString": doc["address"]}, {"name": "type", "valueCode": doc["kind"]}]
        if doc.get("idnat"):
            parts.append({"name": "identifier", "valueIdentifier": {"system": "urn:oid:1.2.250.1.71.4.2.1",
                                                                    "value": doc["idnat"]}})
            parts.append({"name": "practitioner", "valueReference": {"reference": f"Practitioner/as-{doc['idnat']}"}})
        for key, name in (("family", "family"), ("given", "given"), ("profession_label", "profession"),
                          ("structure_name", "organization"), ("postal_code", "postalCode"), ("town", "city")):
            if doc.get(key):
                parts.append({"name": name, "valueString": doc[key]})
        matches.append({"name": "match", "part": parts})
    return {"resourceType": "Parameters", "parameter": [{"name": "total", "valueInteger": len(found)}, *matches]}
