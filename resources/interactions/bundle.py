"""``batch`` and ``transaction`` Bundles posted to the base URL.

A transaction is all-or-nothing: ``urn:uuid:`` references are resolved to the ids assigned up front,
conditional references (``"reference": "Patient?identifier=urn:oid:...|IPP"``) to the one resource their search
finds (none or several fails the transaction with 412, as FHIR prescribes; they used to be stored as written, a
reference that points nowhere and that no ``patient=`` search finds),
every entry is validated and written in one MongoDB transaction, and any failure (an invalid entry
included) rolls it all back and returns one OperationOutcome naming the entry. A batch runs each entry on its own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from resources.errors import InvalidInput, Issue, PreconditionFailed, SglError
from resources.fhirjson import instant
from resources.interactions.common import check_body_type, check_type
from resources.interactions.create import conditional_key, create, created, prepare_create
from resources.interactions.delete import conditional_delete, delete
from resources.interactions.outcome import Outcome
from resources.interactions.read import read, vread
from resources.interactions.references import ReferenceCheck
from resources.interactions.search import matching_ids, search
from resources.interactions.update import conditional_update, update
from resources.interactions.write_rules import AccessCheck, WriteRule, check_access
from resources.search.query import stated
from resources.store.base import FhirStore, StoreSession

_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "GET": 3, "HEAD": 3}
_CONDITIONAL_REFERENCE = re.compile(r"^([A-Z][A-Za-z]+)\?(.+)$")


@dataclass
class _Entry:
    index: int
    method: str
    rtype: str
    rid: str | None
    vid: str | None
    query: str
    body: Any
    full_url: str | None
    if_match: str | None
    if_none_exist: str | None
    answer: dict[str, Any] | None = None
    """What a ``GET metadata`` entry answers (the CapabilityStatement), set before the entries run."""


def _parse_entry(i: int, entry: Any) -> _Entry:
    where = f"Bundle.entry[{i}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
        raise InvalidInput(f"{where} has no request", expression=f"{where}.request")
    req = entry["request"]
    method = str(req.get("method", "")).upper()
    if method not in _ORDER:
        raise InvalidInput(f"{where}.request.method {req.get('method')!r} is not supported",
                           expression=f"{where}.request.method")
    url = urlsplit(str(req.get("url", "")))
    parts = [p for p in url.path.strip("/").split("/") if p]
    if not parts:
        raise InvalidInput(f"{where}.request.url is empty", expression=f"{where}.request.url")
    operation = next((p for p in parts if p.startswith("$")), None)
    if operation:  # they were taken for a read of id "$op" or a create whose body is a Parameters: a misleading 400
        raise InvalidInput(f"{where}.request.url {req.get('url')!r}: operations ({operation}) are not accepted as "
                           "batch or transaction entries; call them on their own URL",
                           expression=f"{where}.request.url")
    if parts == ["metadata"] and method not in ("GET", "HEAD"):
        raise InvalidInput(f"{where}: metadata is only read (GET)", expression=f"{where}.request.method")
    vid = parts[3] if len(parts) == 4 and parts[2] == "_history" else None
    return _Entry(i, method, parts[0], parts[1] if len(parts) > 1 else None, vid, url.query, entry.get("resource"),
                  entry.get("fullUrl"), req.get("ifMatch"), req.get("ifNoneExist"))


def _rewrite(node: Any, ids: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {k: _rewrite(v, ids) for k, v in node.items()}
        ref = out.get("reference")
        if isinstance(ref, str) and ref in ids:
            out["reference"] = ids[ref]
        return out
    if isinstance(node, list):
        return [_rewrite(v, ids) for v in node]
    return node


def _conditional_references(node: Any) -> set[str]:
    """Every ``reference`` of ``node`` written as a search (``Type?criteria``)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("reference")
            if isinstance(ref, str) and _CONDITIONAL_REFERENCE.match(ref):
                found.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


async def _resolve_conditional(store: FhirStore, e: _Entry, ids: dict[str, str], session: StoreSession,
                               access: AccessCheck | None) -> None:
    """Add to ``ids`` the resource each conditional reference of ``e`` designates: exactly one must match."""
    for ref in sorted(_conditional_references(e.body) - set(ids)):
        match = _CONDITIONAL_REFERENCE.match(ref)
        assert match is not None
        rtype, query = match.groups()
        try:
            found = await matching_ids(store, rtype, query, session=session, access=access)
            if len(found) != 1:
                raise PreconditionFailed(f"the conditional reference {ref!r} matches "
                                         f"{'no' if not found else 'several'} {rtype}: it must designate exactly one",
                                         expression="reference")
        except SglError as exc:
            raise _at(exc, e.index) from exc
        ids[ref] = f"{rtype}/{found[0]}"


def _response(outcome: Outcome) -> dict[str, Any]:
    resp: dict[str, Any] = {"status": str(outcome.status)}
    if "Location" in outcome.headers:
        resp["location"] = outcome.headers["Location"]
    if "ETag" in outcome.headers:
        resp["etag"] = outcome.headers["ETag"]
    if outcome.stored is not None:
        resp["lastModified"] = instant(outcome.stored.last_updated)
    entry: dict[str, Any] = {"response": resp}
    if outcome.resource is not None:
        entry["resource"] = outcome.resource
    return entry


_INTERACTION = {"POST": "create", "PUT": "update", "DELETE": "delete", "GET": "read", "HEAD": "read"}


async def _run(store: FhirStore, e: _Entry, *, base: str, session: StoreSession | None, write_rule: WriteRule | None,
               access: AccessCheck | None, refs: ReferenceCheck) -> Outcome:
    if e.answer is not None:
        return Outcome(200, e.answer)
    check_type(e.rtype)
    check_access(access, e.rtype, _INTERACTION[e.method])
    if e.method == "POST":
        return await create(store, e.rtype, e.body, if_none_exist=e.if_none_exist, session=session,
                            write_rule=write_rule, access=access, references=refs)
    if e.method == "PUT":
        if e.rid is None:
            return await conditional_update(store, e.rtype, e.query, e.body, session=session, write_rule=write_rule,
                                            access=access, references=refs)
        return await update(store, e.rtype, e.rid, e.body, if_match=e.if_match, session=session, write_rule=write_rule,
                            references=refs)
    if e.method == "DELETE":
        if e.rid is None:
            return await conditional_delete(store, e.rtype, e.query, session=session, write_rule=write_rule,
                                            access=access)
        return await delete(store, e.rtype, e.rid, if_match=e.if_match, session=session, write_rule=write_rule)
    if e.rid is None:
        pairs = stated(parse_qsl(e.query, keep_blank_values=True))
        return Outcome(200, await search(store, e.rtype, pairs, base=base, access=access))
    return await (vread(store, e.rtype, e.rid, e.vid) if e.vid else read(store, e.rtype, e.rid))


async def _transaction(store: FhirStore, entries: list[_Entry], *, base: str,
                       write_rule: WriteRule | None, access: AccessCheck | None) -> list[dict[str, Any]]:
    ids: dict[str, str] = {}
    assigned: dict[int, str] = {}
    # every entry's references are looked up together once all are written, before the commit: a reference to
    # an entry of this Bundle (its urn:uuid rewritten, or a PUT Type/id) resolves, one to a resource it deletes not
    refs = ReferenceCheck(base, deferred=True)
    async with store.transaction() as session:
        for e in entries:
            if e.method == "POST" and e.full_url and e.full_url.startswith("urn:uuid:"):
                existing = (await matching_ids(store, e.rtype, e.if_none_exist, session=session, access=access)
                            if e.if_none_exist else [])
                rid = existing[0] if len(existing) == 1 else str(uuid.uuid4())
                if not existing:
                    assigned[e.index] = rid
                    if e.if_none_exist:  # a concurrent transaction creating the same one conflicts
                        await store.claim(conditional_key(e.rtype, e.if_none_exist), session=session)
                ids[e.full_url] = f"{e.rtype}/{rid}"
        ordered = sorted(entries, key=lambda x: _ORDER[x.method])
        for e in ordered:
            await _resolve_conditional(store, e, ids, session, access)
            e.body = _rewrite(e.body, ids)
        # plain creates (no If-None-Exist left to check) are written in bulk, after the deletes
        bulk = [e for e in ordered if e.method == "POST" and (e.index in assigned or not e.if_none_exist)]
        results: dict[int, dict[str, Any]] = {}
        for e in [x for x in ordered if x.method == "DELETE"]:
            results[e.index] = await _one(store, e, base=base, session=session, write_rule=write_rule, access=access,
                                          refs=refs)
        prepared = []
        for e in bulk:
            try:
                check_type(e.rtype)
                check_access(access, e.rtype, "create")
                check_body_type(e.body, e.rtype)
                prepared.append((await prepare_create(e.body, session=session, write_rule=write_rule),
                                 assigned.get(e.index)))
                refs.at(f"Bundle.entry[{e.index}]").record(prepared[-1][0])
            except SglError as exc:
                raise _at(exc, e.index) from exc
        for e, stored in zip(bulk, await store.create_many(prepared, session=session), strict=True):
            results[e.index] = _response(Outcome.of(201, stored, location=True))
            try:  # every bulk entry is stored: a rule told of one sees the others
                await created(write_rule, stored, session)
            except SglError as exc:
                raise _at(exc, e.index) from exc
        for e in [x for x in ordered if x.index not in results]:
            results[e.index] = await _one(store, e, base=base, session=session, write_rule=write_rule, access=access,
                                          refs=refs)
        await refs.verify(store, session)
    return [results[e.index] for e in entries]


async def _one(store: FhirStore, e: _Entry, *, base: str, session: StoreSession | None, write_rule: WriteRule | None,
               access: AccessCheck | None, refs: ReferenceCheck) -> dict[str, Any]:
    try:
        return _response(await _run(store, e, base=base, session=session, write_rule=write_rule, access=access,
                                    refs=refs.at(f"Bundle.entry[{e.index}]")))
    except SglError as exc:
        raise _at(exc, e.index) from exc


def _at(exc: SglError, index: int) -> SglError:
    """The same error, its issues prefixed with the failing entry so the client can find it."""
    exc.issues = [Issue(code=i.code, severity=i.severity, diagnostics=f"Bundle.entry[{index}]: {i.diagnostics}",
                        expression=(f"Bundle.entry[{index}]", *i.expression)) for i in exc.issues]
    return exc


async def _batch(store: FhirStore, entries: list[_Entry], *, base: str,
                 write_rule: WriteRule | None, access: AccessCheck | None) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        try:
            out.append(_response(await _run(store, e, base=base, session=None, write_rule=write_rule, access=access,
                                            refs=ReferenceCheck(base))))
        except SglError as exc:
            out.append({"response": {"status": str(exc.status), "outcome": exc.outcome()}})
    return out


async def process_bundle(store: FhirStore, body: Any, *, base: str, write_rule: WriteRule | None = None,
                         access: AccessCheck | None = None,
                         capability: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
    """``capability`` makes the CapabilityStatement a ``GET metadata`` entry answers (the server's; this package
    does not know the routes); without it such an entry is 404 like any unknown type."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise InvalidInput("POST to the base URL takes a Bundle", expression="resourceType")
    kind = body.get("type")
    if kind not in ("batch", "transaction"):
        raise InvalidInput(f"Bundle.type {kind!r}: only batch and transaction can be processed",
                           expression="Bundle.type")
    raw_entries = body.get("entry") or []
    entries: list[_Entry] = []
    parse_errors: dict[int, SglError] = {}
    for i, raw in enumerate(raw_entries):
        try:
            entries.append(_parse_entry(i, raw))
        except SglError as exc:
            if kind == "transaction":
                raise
            parse_errors[i] = exc
    for e in entries:
        if e.rtype == "metadata" and capability is not None:
            e.answer = capability()
    if kind == "transaction":
        check_access(access, "*", "transaction")
        results = await _transaction(store, entries, base=base, write_rule=write_rule, access=access)
    else:
        check_access(access, "*", "batch")
        done = iter(await _batch(store, entries, base=base, write_rule=write_rule, access=access))
        results = [{"response": {"status": str(parse_errors[i].status), "outcome": parse_errors[i].outcome()}}
                   if i in parse_errors else next(done) for i in range(len(raw_entries))]
    return {"resourceType": "Bundle", "type": f"{kind}-response", "entry": results}
