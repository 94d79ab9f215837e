"""The search parameters OpenSGL supports, per resource type.

Each one names its type (which module extracts and queries it), the element paths it reads, and for
references the resource types it may point at. The CapabilityStatement, the index builder and the
query parser all read this one table, so what is advertised is exactly what is indexed and served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ParamType = Literal["token", "string", "date", "reference", "quantity", "composite", "uri"]


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: ParamType
    paths: tuple[str, ...]
    targets: tuple[str, ...] = ()
    documentation: str = ""
    # composite: the (token param, quantity param) pair whose values are paired per element
    components: tuple[str, ...] = ()
    # a narrower view of another parameter's values (``patient`` is ``subject`` limited to Patient)
    alias_of: str = ""
    # False for codes shared by most resources (status, gender): never the clause that leads a query
    selective: bool = True
    # False for the meta parameters: no sort key is stored for them (nobody sorts by a tag)
    sortable: bool = True

    @property
    def key(self) -> str:
        """The name its values are stored and indexed under."""
        return self.alias_of or self.name

    @property
    def field(self) -> str:
        """Where the extracted values live in the stored document."""
        return f"s.{self.key}"


def _p(name: str, type_: ParamType, *paths: str, targets: tuple[str, ...] = (), doc: str = "",
       alias_of: str = "") -> SearchParam:
    selective = name not in ("status", "gender", "category", "class")
    return SearchParam(name=name, type=type_, paths=paths, targets=targets, documentation=doc, alias_of=alias_of,
                       selective=selective)


_SUBJECT_TARGETS = ("Patient", "Group", "Device", "Location")
_REQUESTERS = ("Practitioner", "PractitionerRole", "Organization", "Patient", "Device", "RelatedPerson")
_EFFECTIVE = ("effectiveDateTime", "effectivePeriod", "effectiveInstant")

PARAMS: dict[str, dict[str, SearchParam]] = {
    "Patient": {p.name: p for p in (
        _p("identifier", "token", "identifier"),
        _p("family", "string", "name.family"),
        _p("given", "string", "name.given"),
        _p("name", "string", "name"),
        _p("birthdate", "date", "birthDate"),
        _p("gender", "token", "gender"),
    )},
    "Practitioner": {p.name: p for p in (
        _p("identifier", "token", "identifier"),
        _p("name", "string", "name"),
    )},
    "PractitionerRole": {p.name: p for p in (
        _p("identifier", "token", "identifier"),
        _p("practitioner", "reference", "practitioner", targets=("Practitioner",)),
        _p("organization", "reference", "organization", targets=("Organization",)),
        _p("role", "token", "code"),
    )},
    "Organization": {p.name: p for p in (
        _p("identifier", "token", "identifier"),
        _p("name", "string", "name", "alias"),
    )},
    "ServiceRequest": {p.name: p for p in (
        _p("identifier", "token", "identifier"),
        _p("subject", "reference", "subject", targets=_SUBJECT_TARGETS),
        _p("patient", "reference", "subject", targets=("Patient",), alias_of="subject"),
        _p("status", "token", "status"),
        _p("authored", "date", "authoredOn"),
        _p("requester", "reference", "requester", targets=_REQUESTERS),
        _p("specimen", "reference", "specimen", targets=("Specimen",)),
        _p("code", "token", "code"),
        _p("requisition", "token", "requisition"),
    )},
    "Communication": {p.name: p for p in (  # a critical value's phone call, documented (issue 15 item 10)
        _p("identifier", "token", "identifier"),
        _p("subject", "reference", "subject", targets=_SUBJECT_TARGETS),
        _p("patient", "reference", "subject", targets=("Patient",), alias_of="subject"),
        _p("about", "reference", "about", targets=()),
        _p("category", "token", "category"),
        _p("status", "token", "status"),
        _p("sent", "date", "sent"),
    )},
    "Specimen": {p.name: p for p in (
        _p("identifier", "token", "identifier"),
        _p("accession", "token", "accessionIdentifier"),
        _p("subject", "reference", "subject", targets=_SUBJECT_TARGETS),
        _p("patient", "reference", "subject", targets=("Patient",), alias_of="subject"),
        _p("status", "token", "status"),
        _p("collected", "date", "collection.collectedDateTime", "collection.collectedPeriod"),
        _p("type", "token", "type"),
    )},
    "Observation": {p.name: p for p in (
        _p("identifier", "token", "identifier"),
        _p("subject", "reference", "subject", targets=_SUBJECT_TARGETS),
        _p("patient", "reference", "subject", targets=("Patient",), alias_of="subject"),
        _p("code", "token", "code"),
        _p("date", "date", *_EFFECTIVE),
        _p("status", "token", "status"),
        _p("based-on", "reference", "basedOn", targets=("ServiceRequest", "CarePlan", "MedicationRequest")),
        _p("specimen", "reference", "specimen", targets=("Specimen",)),
        _p("category", "token", "category"),
        _p("value-quantity", "quantity", "valueQuantity"),
        SearchParam(name="code-value-quantity", type="composite", paths=("",),
                    components=("code", "value-quantity"),
                    documentation="code and quantity value of the same Observation"),
    )},
    "DiagnosticReport": {p.name: p for p in (
        _p("identifier", "token", "identifier"),
        _p("subject", "reference", "subject", targets=_SUBJECT_TARGETS),
        _p("patient", "reference", "subject", targets=("Patient",), alias_of="subject"),
        _p("code", "token", "code"),
        _p("status", "token", "status"),
        _p("issued", "date", "issued"),
        _p("date", "date", "effectiveDateTime", "effectivePeriod"),
        _p("based-on", "reference", "basedOn", targets=("ServiceRequest", "CarePlan")),
        _p("result", "reference", "result", targets=("Observation",)),
        _p("specimen", "reference", "specimen", targets=("Specimen",)),
    )},
    "DocumentReference": {p.name: p for p in (
        _p("identifier", "token", "masterIdentifier", "identifier"),
        _p("subject", "reference", "subject", targets=_SUBJECT_TARGETS),
        _p("patient", "reference", "subject", targets=("Patient",), alias_of="subject"),
        _p("type", "token", "type"),
        _p("status", "token", "status"),
        _p("related", "reference", "context.related", targets=("DiagnosticReport", "ServiceRequest")),
        _p("date", "date", "date"),
        _p("format", "token", "content.format"),
    )},
    "Binary": {},
    "CodeSystem": {p.name: p for p in (
        _p("url", "uri", "url"),
        _p("version", "token", "version"),
        _p("name", "string", "name"),
    )},
    "ValueSet": {p.name: p for p in (
        _p("url", "uri", "url"),
        _p("version", "token", "version"),
        _p("name", "string", "name"),
    )},
    "ConceptMap": {p.name: p for p in (
        _p("url", "uri", "url"),
        _p("version", "token", "version"),
        _p("name", "string", "name"),
    )},
    "ObservationDefinition": {p.name: p for p in (
        _p("code", "token", "code"),
        _p("name", "string", "code.text", "code.coding.display"),
        _p("identifier", "token", "identifier"),
    )},
    "ActivityDefinition": {p.name: p for p in (
        _p("code", "token", "code"),
        _p("name", "string", "name"),
        _p("url", "uri", "url"),
    )},
    "Device": {p.name: p for p in (
        _p("identifier", "token", "identifier"),
    )},
    "SpecimenDefinition": {p.name: p for p in (
        _p("identifier", "token", "identifier"),
    )},
    "Consent": {p.name: p for p in (
        _p("patient", "reference", "patient", targets=("Patient",)),
        _p("status", "token", "status"),
        _p("category", "token", "category"),
    )},
    "Task": {p.name: p for p in (
        _p("identifier", "token", "identifier"),
        _p("code", "token", "code"),
        _p("status", "token", "status"),
        _p("focus", "reference", "focus", targets=()),
        _p("authored-on", "date", "authoredOn"),
        # R4 Task ``subject`` (Task.for) and ``patient`` (the same, limited to Patient): a merge finds the
        # duplicate's Tasks through this index (values filled once for Tasks stored before, store/backfill.py)
        _p("subject", "reference", "for", targets=()),
        _p("patient", "reference", "for", targets=("Patient",), alias_of="subject"),
    )},
    # the stay or visit a request belongs to (FR Core Encounter, from the hospital's feed or DPI): kept because
    # an order's ``encounter`` names it, and re-pointed by a merge like the order itself
    "Encounter": {p.name: p for p in (
        _p("identifier", "token", "identifier"),
        _p("subject", "reference", "subject", targets=("Patient", "Group")),
        _p("patient", "reference", "subject", targets=("Patient",), alias_of="subject"),
        _p("status", "token", "status"),
        _p("class", "token", "class"),
        _p("date", "date", "period"),
        _p("service-provider", "reference", "serviceProvider", targets=("Organization",)),
    )},
    "Provenance": {p.name: p for p in (
        _p("target", "reference", "target", targets=()),
    )},
    "AuditEvent": {p.name: p for p in (
        _p("entity", "reference", "entity.what", targets=()),
        _p("agent", "reference", "agent.who", targets=()),
        _p("date", "date", "recorded"),
        _p("type", "token", "type"),
    )},
}

META_PARAMS: tuple[SearchParam, ...] = (
    SearchParam(name="_tag", type="token", paths=("meta.tag",), sortable=False,
                documentation="meta.tag (system|code); :not excludes, e.g. results already validated technically"),
)
"""The standard parameters that apply to every resource type (FHIR R4 Resource search parameters) that OpenSGL
serves: extracted, indexed and advertised like the others, so a worklist can ask for "not yet tagged" instead of
filtering a page. Only ``_tag`` for now: each one is an index more on every collection, paid by every write
(``_security`` and ``_profile`` come when a screen needs them)."""
for _params in PARAMS.values():
    _params.update({p.name: p for p in META_PARAMS})

RESOURCE_TYPES: tuple[str, ...] = tuple(PARAMS)

# Parameters every type accepts; handled by the query planner rather than by the value modules.
COMMON_PARAMS = ("_id", "_lastUpdated")
RESULT_PARAMS = frozenset({"_count", "_sort", "_include", "_revinclude", "_summary", "_total", "_cursor",
                           "_format", "_elements"})


def params_for(resource_type: str) -> dict[str, SearchParam]:
    return PARAMS.get(resource_type, {})
