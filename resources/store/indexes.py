"""The indexes behind every supported search parameter, created at start-up.

One index per parameter (dates one on ``lo`` and one on ``hi``, since prefixes compare either end,
plus ``k.<date>`` for keyset paging sorted by that date), and the compound indexes of the
searches a lab runs all day (an Observation by patient and code, by patient and date), which also
serve their leading field alone: no single-field index repeats it.

The compound set depends on the database engine, which the wiring passes down (``Engine``): MongoDB refuses
to index a document that holds arrays in two fields of one compound index ("cannot index parallel arrays",
code 171), at insert or at index build; every ``s.*`` and ``x.*`` value is a list. So on MongoDB only the
compounds with at most one such field are created (its planner intersects or chooses among single-field
indexes anyway), and the leading field of a compound left out keeps its single-field index. The embedded
SecantusDB does not check the rule and never combines two indexes: it gets them all.
"""

from __future__ import annotations

from typing import Any, Literal

from pymongo import ASCENDING, DESCENDING, IndexModel

from resources.search import links
from resources.search.params import params_for

# Compound indexes (stored fields, in index order) for the searches a lab runs all day. The embedded database
# never combines two indexes: two clauses on two single-field indexes are a full scan. It walks a compound index
# when the filter's fields are its leading fields, all equalities except possibly the last, which may be a
# ``$in`` or a range. So each two-parameter search the server or the workbench sends has one, the field that may
# hold several values (``specimen=a,b``) last: a patient's results by code; the active orders of an accession's
# tubes (analyzer ingest, unmatched results); the open unmatched-result Tasks (worklist events, workbench); a
# patient's critical-value calls; a dossier's consents by channel or by status (each order).
Engine = Literal["mongodb", "embedded"]
"""The database the indexes are made for: MongoDB (``SGL_MONGODB_URI``) or the embedded SecantusDB."""

COMPOUND_INDEXES: dict[str, list[tuple[str, ...]]] = {
    "Observation": [("s.subject", "s.code"), ("s.subject", "k.date"), ("s.specimen", "s.status")],
    "DiagnosticReport": [("s.subject", "k.issued")],
    "ServiceRequest": [("s.subject", "k.authored"), ("s.status", "s.specimen")],
    "Task": [("s.code", "s.status")],
    "Communication": [("s.subject", "s.category")],
    "Consent": [("s.patient", "s.category"), ("s.patient", "s.status")],
}

ARRAY_FIELDS = frozenset({"s", "x", links.FIELD})
"""The top-level fields of a stored document whose values are lists (``search_document``: every extractor
returns a list; ``links.FIELD``: a list of references). ``k.*`` (one sort key), ``lu``, ``u.*`` are scalars."""


def may_hold_array(field: str) -> bool:
    """Whether a stored document can hold a list along ``field`` (a dotted path)."""
    return field.split(".", 1)[0] in ARRAY_FIELDS


def compound_indexes(resource_type: str, engine: Engine) -> list[tuple[str, ...]]:
    """The compounds created on ``engine``: on MongoDB, only those with at most one field that may hold a list."""
    compounds = COMPOUND_INDEXES.get(resource_type, [])
    if engine == "embedded":
        return compounds
    return [fields for fields in compounds if sum(map(may_hold_array, fields)) <= 1]


def left_out_compounds(resource_type: str, engine: Engine) -> set[str]:
    """Names of the compounds not made on ``engine``. An earlier version created them on MongoDB too: over an
    empty collection MongoDB accepts such an index, then refuses every insert with arrays in both fields, so
    start-up drops them (after creating the set that replaces them)."""
    kept = set(compound_indexes(resource_type, engine))
    return {"+".join(fields) for fields in COMPOUND_INDEXES.get(resource_type, []) if fields not in kept}

LAB_ACCESSION_SYSTEM = "https://opensgl.org/fhir/sid/accession"
"""The system of the accession numbers the lab's counter gives its tubes."""

UNIQUE_IDENTIFIERS: dict[str, dict[str, tuple[str, str]]] = {
    "Specimen": {"accession": ("accessionIdentifier", LAB_ACCESSION_SYSTEM)}}
"""Identifiers no two current resources of a type may share: key name -> (Identifier element, system).
The database enforces them (a unique index on ``u.<key>``), so two concurrent writers cannot both win.
Only the lab's own system is unique: a subcontractor's specimen number may come back in several documents."""


def unique_keys(resource: dict[str, Any]) -> dict[str, str]:
    """The ``u`` part of a stored document: the value of each unique identifier present."""
    out = {}
    for key, (element, system) in UNIQUE_IDENTIFIERS.get(resource["resourceType"], {}).items():
        ident = resource.get(element)
        if isinstance(ident, dict) and ident.get("system") == system and ident.get("value"):
            out[key] = str(ident["value"])
    return out


def unique_indexes(resource_type: str) -> list[IndexModel]:
    return [IndexModel([(f"u.{key}", ASCENDING)], name=f"unique.{key}", unique=True,
                       partialFilterExpression={f"u.{key}": {"$exists": True}})
            for key in UNIQUE_IDENTIFIERS.get(resource_type, {})]


def current_indexes(resource_type: str, *, engine: Engine = "mongodb") -> list[IndexModel]:
    """The indexes of the current documents of ``resource_type`` on ``engine`` (by default the set that is valid
    on both: MongoDB's)."""
    models = [IndexModel([("lu", ASCENDING)], name="lastUpdated"),
              IndexModel([("k._lastUpdated", ASCENDING)], name="_lastUpdated.sort")]
    for param in params_for(resource_type).values():
        if param.alias_of:
            continue
        f, key = param.field, param.key
        if param.type == "date":
            models.append(IndexModel([(f"{f}.lo", ASCENDING)], name=f"{key}.lo"))
            models.append(IndexModel([(f"{f}.hi", ASCENDING)], name=f"{key}.hi"))
            models.append(IndexModel([(f"k.{key}", ASCENDING)], name=f"{key}.sort"))
        elif param.type == "quantity":
            models.append(IndexModel([(f"{f}.v", ASCENDING)], name=key))
        elif param.type == "composite":
            models.append(IndexModel([(f"{f}.t", ASCENDING), (f"{f}.v", ASCENDING)], name=key))
        else:
            models.append(IndexModel([(f, ASCENDING)], name=key))
            if param.type == "string":
                models.append(IndexModel([(f"x.{key}", ASCENDING)], name=f"{key}.exact"))
    compounds = compound_indexes(resource_type, engine)
    # a compound index serves every query on its leading field: a single-field index on it would only
    # cost another entry per write (the subject of an Observation, a report, an order)
    leading = {fields[0] for fields in compounds}
    models = [m for m in models if len(m.document["key"]) > 1 or next(iter(m.document["key"])) not in leading]
    for fields in compounds:
        models.append(IndexModel([(f, ASCENDING) for f in fields], name="+".join(fields)))
    # the Patient references no parameter indexes (focus, contained, extensions): few documents hold any
    models.append(IndexModel([(links.FIELD, ASCENDING)], name="patient-links",
                             partialFilterExpression={links.FIELD: {"$exists": True}}))
    return models


def history_indexes() -> list[IndexModel]:
    return [
        IndexModel([("i", ASCENDING), ("v", DESCENDING)], name="id.version"),
        IndexModel([("k", DESCENDING)], name="lastUpdated.sort"),
    ]
