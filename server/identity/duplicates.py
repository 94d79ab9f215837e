"""``GET /fhir/Patient/$duplicates``: the anteriority search before creating an identity (RNIV rule 17).

- ``birthdate`` (YYYY-MM-DD) finds every identity born that day (SGL.INS.07), through the indexed
  ``birthdate`` search;
- ``name`` optionally narrows it to identities one of whose birth name, used name, birth first
  names, first birth first name or used first name starts with it, without distinction between
  them (SGL.INS.10), ignoring case, accents, cedillas, apostrophes, spaces and single or double
  hyphens (SGL.INS.09): ``JEAN-PIERRE``, ``Jean Pierre``, ``JEAN--PIERRE`` and ``jeanpierre`` match;
- ``identifier`` searches by matricule INS: all 15 characters and a valid key are required before
  any search is run (SGL.INS.08).

The answer is a searchset Bundle of Patients; the route traces the access (SGL.INS.03).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from resources import interactions
from resources.errors import InvalidInput
from resources.interactions.ins_search import complete_matricule
from resources.patient_traits import BIRTH_LIST_GIVEN_NAME_URL
from resources.search.query import MAX_COUNT
from server.identity.roles import Right
from server.identity.scope import Scope

_NOT_LETTER = re.compile(r"[^A-Z0-9]")
_SEPARATOR = re.compile(r"[\s\-'’]+")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def name_key(text: str) -> str:
    """Upper case without diacritics nor any separator: the form both sides are compared in."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _NOT_LETTER.sub("", bare.upper())


def name_keys(patient: dict[str, Any]) -> set[str]:
    """Keys of every birth/used name and first name, whole and word by word."""
    texts: list[str] = []
    for name in patient.get("name", []):
        texts += [name.get("family", "")] + list(name.get("given", []))
        texts += [str(e.get("valueString", "")) for e in name.get("extension", [])
                  if e.get("url") == BIRTH_LIST_GIVEN_NAME_URL]
    texts += [str(e.get("valueString", "")) for e in patient.get("extension", [])
              if e.get("url") == BIRTH_LIST_GIVEN_NAME_URL]
    keys = {name_key(t) for t in texts}
    keys |= {name_key(w) for t in texts for w in _SEPARATOR.split(t)}
    return {k for k in keys if k}


def matches(patient: dict[str, Any], typed: str) -> bool:
    key = name_key(typed)
    return any(k.startswith(key) for k in name_keys(patient))


async def duplicates(scope: Scope, pairs: list[tuple[str, str]], base: str) -> dict[str, Any]:
    scope.profile.require(Right.SEE, expression="Patient/$duplicates")
    given = dict(pairs)
    unknown = set(given) - {"birthdate", "name", "identifier"}
    if unknown:
        raise InvalidInput(f"$duplicates takes birthdate, name and identifier, not {', '.join(sorted(unknown))}",
                           expression=sorted(unknown)[0])
    if "identifier" in given:
        query = [("identifier", complete_matricule(given["identifier"]))]
    elif _DATE.match(given.get("birthdate", "")):
        query = [("birthdate", given["birthdate"])]
    else:
        raise InvalidInput("$duplicates needs birthdate=YYYY-MM-DD (optionally with name) or identifier=<matricule>",
                           expression="birthdate")
    found = await interactions.search(scope.store, "Patient", [*query, ("_count", str(MAX_COUNT))], base=base)
    typed = given.get("name", "").strip()
    entries = [e for e in found.get("entry", []) if not typed or matches(e.get("resource", {}), typed)]
    if "identifier" in given and given.get("birthdate"):
        entries = [e for e in entries if e.get("resource", {}).get("birthDate") == given["birthdate"]]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}
