"""FHIR ``_elements`` (R4 search.html, "_elements"): a client asks for some root elements of the matched
resources only — the workbench needs an ObservationDefinition's ``code`` to name an analysis, not its
ranges and units (222 kB for the catalogue otherwise, fetched at login beside the worklist).

What the R4 text asks, and how it is read here:
- the names are base (root-level) element names: a choice element is named without its type
  (``value`` keeps ``valueQuantity``); a dotted path or an empty name is not such a name and is refused;
- the server SHOULD return the mandatory elements whether asked or not: ``resourceType``, ``id``, ``meta``,
  the modifier extensions (dropping them would change the meaning) and the R4 elements of minimum
  cardinality 1 of each served type (the table below);
- the subsetted resources SHOULD be tagged SUBSETTED so that nobody writes one back over the whole resource;
- a name that is no element of the type is not an error the spec defines: the server "is not obliged to
  return just the requested elements", and such a name selects nothing, so it is ignored;
- the names are those of the searched type, so the included resources (``_include``/``_revinclude``) come
  whole and untagged (R5 says it in so many words: _elements does not apply to included resources).
"""

from __future__ import annotations

import re
from typing import Any

from resources.errors import InvalidInput

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED",
             "display": "subsetted"}

_ALWAYS = ("resourceType", "id", "meta", "modifierExtension")
# R4 root elements with a minimum cardinality of 1, per served type (types with none are absent).
MANDATORY: dict[str, tuple[str, ...]] = {
    "ServiceRequest": ("status", "intent", "subject"),
    "Communication": ("status",),
    "Observation": ("status", "code"),
    "DiagnosticReport": ("status", "code"),
    "DocumentReference": ("status", "content"),
    "Binary": ("contentType",),
    "CodeSystem": ("status", "content"),
    "ValueSet": ("status",),
    "ConceptMap": ("status",),
    "ObservationDefinition": ("code",),
    "ActivityDefinition": ("status",),
    "Consent": ("status", "scope", "category"),
    "Task": ("status", "intent"),
    "Encounter": ("status", "class"),
    "Provenance": ("target", "recorded", "agent"),
    "AuditEvent": ("type", "recorded", "agent", "source"),
}

_NAME = re.compile(r"[a-z][A-Za-z0-9]*")


def parse_elements(raw: str) -> tuple[str, ...]:
    """The names of one ``_elements`` value (comma separated); a name that is not a root element name is a 400."""
    names = tuple(n.strip() for n in raw.split(","))
    for name in names:
        if not _NAME.fullmatch(name):
            raise InvalidInput(f"_elements takes root element names separated by commas (R4); {name!r} is not one",
                               expression="_elements")
    return names


def _kept(key: str, wanted: frozenset[str]) -> bool:
    if key in wanted:
        return True
    # a choice element: ``value`` asks for ``valueQuantity``, ``effective`` for ``effectiveDateTime``
    return any(key.startswith(w) and key[len(w):len(w) + 1].isupper() for w in wanted)


def subset(resource: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """A new resource with only ``names`` and the mandatory elements, tagged SUBSETTED; ``resource`` (which may be
    the store's own copy) is left as it was."""
    wanted = frozenset((*names, *_ALWAYS, *MANDATORY.get(str(resource.get("resourceType")), ())))
    out = {k: v for k, v in resource.items() if _kept(k, wanted)}
    meta = dict(resource.get("meta") or {})
    tags = [t for t in meta.get("tag", []) if t.get("code") != "SUBSETTED" or t.get("system") != SUBSETTED["system"]]
    meta["tag"] = [*tags, dict(SUBSETTED)]
    out["meta"] = meta
    return out
