"""Referential integrity on write: a resource is stored only if its local references resolve.

A reference that points at nothing on this server (``DocumentReference.subject`` = ``Patient/None``) used to be
stored; a FHIR server of a lab (HAPI by default) refuses such a write. Every create and update of the
interactions (REST, batch and transaction Bundles, the HL7 / ASTM / PAM facades and the CLIs, which all call
them) checks, before the write is acknowledged and in the write's own session:

- ``Type/id`` (and an absolute URL under this server's base): a current resource of that type (not deleted);
- ``Type/id/_history/n``: that version exists and is not a deletion;
- ``#id``: a contained resource of the same resource (``#`` alone: the container);
- ``urn:uuid:...``: resolves only to an entry of the same transaction Bundle (rewritten before this check);
  anywhere else it points at nothing;
- ``Type?criteria`` (a conditional reference): resolved only in a transaction Bundle, the same;
- a ``Type`` this server does not hold, or a string that is none of the forms above: cannot resolve.

Not checked: other absolute URLs (``https://...``, ``urn:oid:...``: another server's), a Reference with only an
``identifier`` or a ``display``. An update re-checks only the references its current version does not hold
already: deleting a referenced resource is still allowed here (see README, "What is refused"), and a resource
whose patient was deleted must stay editable (marked entered-in-error, for one).

Cost: one ``$in`` of ids per referenced type per write (a transaction Bundle, an analyzer message or an order
is one write), plus one for version-specific references; a refusal costs one read per missing reference, to
say whether it was deleted. Writes made of several resources in one transaction, in any order (a
ServiceRequest naming the Specimen created after it), use one deferred check (``ReferenceCheck(deferred=True)``
and ``verify`` before the commit): reads in the session see the transaction's own writes, so a reference to a
resource created in the same transaction resolves and one to a resource it deleted does not.

The refusal is a 422 (``processing``): the body is well-formed FHIR, valid against the structure, and breaks a
rule of this server (the FHIR HTTP page: 400 "failed basic FHIR validation rules", 422 "violated applicable
FHIR profiles or server business rules"). HAPI answers 422 (HAPI-1095) for a target that never existed and
400 (HAPI-1096) for a deleted one (hapifhir/hapi-fhir issue 6218), and checks only elements that have a search
parameter (issue 6162); here every Reference is checked, and the OperationOutcome names the element
(``expression``) and the reference.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from resources.errors import Gone, Issue, NotFound, Unprocessable
from resources.search.links import reference_paths
from resources.search.params import RESOURCE_TYPES
from resources.store.base import FhirStore, StoreSession

_LOCAL = re.compile(r"^(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/(?P<vid>[^/]+))?$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_CONDITIONAL = re.compile(r"^[A-Z][A-Za-z]+\?")


@dataclass(frozen=True)
class Target:
    """A local reference to look up: ``rtype/rid`` (at version ``vid`` when version-specific)."""

    rtype: str
    rid: str
    vid: int | None = None

    def __str__(self) -> str:
        return f"{self.rtype}/{self.rid}" + (f"/_history/{self.vid}" if self.vid is not None else "")


@dataclass(frozen=True)
class Found:
    """One Reference of a resource: where it sits (``Observation.subject``), what it says, and what it names
    on this server (None: nothing to look up, then ``problem`` says why it cannot resolve, or it is fine)."""

    path: str
    reference: str
    target: Target | None = None
    problem: str | None = None


def classify(path: str, ref: str, contained: frozenset[str], base: str | None) -> Found | None:
    """What ``ref`` names; None for a reference this server does not resolve (another server's URL)."""
    if ref.startswith("#"):
        if ref == "#" or ref[1:] in contained:
            return None
        return Found(path, ref, problem=f"no contained resource has the id {ref[1:]!r}")
    if ref.startswith("urn:uuid:"):
        return Found(path, ref, problem="a urn:uuid reference resolves only to an entry of the same transaction "
                                        "Bundle, and none has this fullUrl")
    prefix = base.rstrip("/") + "/" if base else None
    ours = prefix is not None and ref.startswith(prefix)
    if not ours and _SCHEME.match(ref):
        return None
    local = ref[len(prefix):] if prefix is not None and ours else ref
    if _CONDITIONAL.match(local):
        return Found(path, ref, problem="a conditional reference (Type?criteria) is resolved only in a transaction "
                                        "Bundle")
    m = _LOCAL.match(local)
    if m is None:
        return Found(path, ref, problem="not a reference this server can resolve (Type/id, Type/id/_history/n, "
                                        "#id, an absolute URL)")
    if m["type"] not in RESOURCE_TYPES:
        return Found(path, ref, problem=f"this server holds no {m['type']} (see /metadata)")
    vid = m["vid"]
    if vid is not None and not vid.isdigit():
        return Found(path, ref, problem=f"version {vid!r} does not exist (versions are numbers)")
    return Found(path, ref, Target(m["type"], m["id"], int(vid) if vid is not None else None))


def local_references(resource: dict[str, Any], base: str | None = None) -> list[Found]:
    """The references of ``resource`` this server must resolve, contained resources' included."""
    contained = frozenset(str(c.get("id")) for c in resource.get("contained") or () if isinstance(c, dict))
    out = []
    for path, node in reference_paths(resource):
        found = classify(path, node["reference"], contained, base)
        if found is not None:
            out.append(found)
    return out


@dataclass
class ReferenceCheck:
    """The reference check of one write. Immediate by default: ``check`` looks the references up at once. With
    ``deferred``, ``check`` only records them, and ``verify`` (before the transaction commits) looks them all up
    together: what a write of several resources in one transaction uses. ``base`` is this server's base URL
    (an absolute reference under it is local); ``at`` labels what follows (a Bundle entry).

    ``committed``: look up committed data, outside the write's transaction. For a caller that must not read
    inside its transaction: the analyzer ingest's first attempt (a read inside a SecantusDB transaction pins
    pages until the commit, see server/analyzers/README.md), which matched the same targets outside it too.
    ``known``: targets this write itself creates (a bulk create's ids chosen up front): they resolve unread.
    ``deleted_ok``: a reference to a resource deleted since is accepted (never-existing ones are still refused):
    for the server's own records about what happened (a worklist Task about a withdrawn report whose withdrawal
    delivery failed), as an AuditEvent may name a deleted patient."""

    base: str | None = None
    deferred: bool = False
    where: tuple[str, ...] = ()
    pending: list[tuple[tuple[str, ...], Found]] = field(default_factory=list)
    committed: bool = False
    known: set[Target] = field(default_factory=set)
    deleted_ok: bool = False

    def at(self, *where: str) -> ReferenceCheck:
        """The same check (same pending list) labelling what it is given with ``where`` (``Bundle.entry[2]``)."""
        return dataclasses.replace(self, where=where)  # the same pending list and known set, not copies

    def record(self, resource: dict[str, Any], *, kept: dict[str, Any] | None = None) -> None:
        """Add the local references of ``resource`` to those to look up; those ``kept`` (the version an update
        replaces) already holds are not checked again."""
        held = {f.reference for f in local_references(kept, self.base)} if kept else set()
        self.pending.extend((self.where, f) for f in local_references(resource, self.base) if f.reference not in held)

    async def check(self, store: FhirStore, resource: dict[str, Any], session: StoreSession | None, *,
                    kept: dict[str, Any] | None = None) -> None:
        """``record``, then look up now unless the check is deferred."""
        self.record(resource, kept=kept)
        await self.settle(store, session)

    async def settle(self, store: FhirStore, session: StoreSession | None) -> None:
        """Look up what is recorded now, unless the check is deferred (then its owner calls ``verify``)."""
        if not self.deferred:
            await self.verify(store, session)

    async def verify(self, store: FhirStore, session: StoreSession | None) -> None:
        """Look up every pending reference (one query per type) and refuse the write if one does not resolve."""
        pending, self.pending[:] = list(self.pending), []
        if not pending:
            return
        session = None if self.committed else session
        wanted = {f.target for _, f in pending if f.target is not None}
        found = self.known | await _present(store, wanted - self.known, session)
        issues = [issue for where, f in pending if f.problem is not None or f.target not in found
                  if (issue := await _issue(store, where, f, session, self.deleted_ok)) is not None]
        if issues:
            raise Unprocessable("; ".join(i.diagnostics for i in issues), issues=issues)


async def _present(store: FhirStore, targets: set[Target], session: StoreSession | None) -> set[Target]:
    """The targets that resolve: one lookup per type for current resources, one per type for versions."""
    by_type: dict[str, set[str]] = {}
    versions: dict[str, set[tuple[str, int]]] = {}
    for t in targets:
        if t.vid is None:
            by_type.setdefault(t.rtype, set()).add(t.rid)
        else:
            versions.setdefault(t.rtype, set()).add((t.rid, t.vid))
    out: set[Target] = set()
    for rtype, ids in by_type.items():
        out |= {Target(rtype, rid) for rid in await store.present(rtype, ids, session=session)}
    for rtype, pairs in versions.items():
        out |= {Target(rtype, rid, vid) for rid, vid in await store.versions_present(rtype, pairs, session=session)}
    return out


async def _issue(store: FhirStore, where: tuple[str, ...], f: Found, session: StoreSession | None,
                 deleted_ok: bool) -> Issue | None:
    """What is wrong with ``f`` (None: a deleted target, accepted with ``deleted_ok``)."""
    problem = f.problem
    if problem is None and f.target is not None:
        problem = await _why_missing(store, f.target, session)
        if deleted_ok and problem.endswith(" was deleted"):
            return None
    label = "".join(f"{w}: " for w in where)
    return Issue(code="processing", diagnostics=f"{label}{f.path} = {f.reference!r}: {problem}",
                 expression=(*where, f.path))


async def _why_missing(store: FhirStore, target: Target, session: StoreSession | None) -> str:
    if target.vid is not None:
        return f"{target.rtype}/{target.rid} has no version {target.vid} on this server"
    try:
        await store.read(target.rtype, target.rid, session=session)
    except Gone:
        return f"{target.rtype}/{target.rid} was deleted"
    except NotFound:
        pass
    return f"{target.rtype}/{target.rid} does not exist on this server"
