"""Search (type level): plan, query, and a searchset Bundle whose links page without gaps."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from resources.errors import Issue, PreconditionFailed, operation_outcome
from resources.interactions.common import check_type
from resources.interactions.ins_search import check_ins_search
from resources.interactions.write_rules import AccessCheck, check_access
from resources.search.elements import subset
from resources.search.query import MAX_CHAIN_MATCHES, SearchRequest, plan
from resources.store.base import FhirStore, StoreSession


def chain_resolver(store: FhirStore, session: StoreSession | None = None, access: AccessCheck | None = None) -> Any:
    """Resolves ``subject:Patient.family=x`` into Patient ids. The chained type is read on the caller's
    behalf, so the caller needs ``read`` on it: otherwise the match count of the outer search would tell a
    role without it which patients exist (an analyzer probing names through ``ServiceRequest``)."""
    async def resolve(rtype: str, pairs: list[tuple[str, str]]) -> list[str]:
        check_access(access, rtype, "read")
        check_ins_search(rtype, pairs, access)
        req = await plan(rtype, pairs, strict=True, resolve_chain=resolve)
        return await store.search_ids(req, limit=MAX_CHAIN_MATCHES + 1, session=session)
    return resolve


async def plan_search(store: FhirStore, rtype: str, pairs: list[tuple[str, str]], *, strict: bool,
                      session: StoreSession | None = None, access: AccessCheck | None = None) -> SearchRequest:
    """Plan a search on a served FHIR type only: any other name (``Patient_history``, an internal
    collection, a typo) is a 404 before a collection is touched."""
    check_type(rtype)
    return await plan(rtype, pairs, strict=strict, resolve_chain=chain_resolver(store, session, access))


async def matching_ids(store: FhirStore, rtype: str, query: str, *, session: StoreSession | None = None,
                       access: AccessCheck | None = None) -> list[str]:
    """Ids matching a conditional query (``If-None-Exist``, conditional update or delete, a transaction's
    conditional reference); at most 2 are fetched. It is a search made for the caller, held to a search's
    rules: ``read`` on the type, on each chained type, and the INS rules. Found by probing: an analyzer
    (``automate``: may create Observations, may not read them nor any Patient) got a stored Observation back
    as the 200 of ``If-None-Exist``, and learnt which patient names exist through
    ``If-None-Exist: subject:Patient.family=...``."""
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    if not pairs:
        raise PreconditionFailed("a conditional interaction needs search criteria", expression="If-None-Exist")
    check_access(access, rtype, "read")
    check_ins_search(rtype, pairs, access)
    req = await plan_search(store, rtype, pairs, strict=True, session=session, access=access)
    return await store.search_ids(req, limit=2, session=session)


def _link(base: str, rtype: str, pairs: list[tuple[str, str]]) -> str:
    query = urlencode(pairs)
    return f"{base}/{rtype}" + (f"?{query}" if query else "")


async def search(store: FhirStore, rtype: str, pairs: list[tuple[str, str]], *, base: str,
                 strict: bool = False, access: AccessCheck | None = None,
                 session: StoreSession | None = None) -> dict[str, Any]:
    """A searchset Bundle; in ``session``'s transaction when given (its own writes included)."""
    check_type(rtype)
    check_access(access, rtype, "read")
    check_ins_search(rtype, pairs, access)
    req = await plan_search(store, rtype, pairs, strict=strict, session=session, access=access)
    for inc in req.includes:
        if inc.target_type:
            check_access(access, inc.target_type, "read")
    for rev in req.revincludes:
        check_access(access, rev.source_type, "read")
    page = await store.search(req, session=session)
    for included_type in sorted({r["resourceType"] for r in page.included}):
        check_access(access, included_type, "read")
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if page.total is not None:
        bundle["total"] = page.total
    # the count served, not the one asked: ``_count=100000`` is served 1000 a page and the links must say so
    echo = [(k, str(req.count)) if k == "_count" else (k, v) for k, v in req.echo]
    self_pairs = echo + ([("_cursor", req.cursor)] if req.cursor else [])
    links = [{"relation": "self", "url": _link(base, rtype, self_pairs)}]
    if page.next_cursor:
        links.append({"relation": "next", "url": _link(base, rtype, [*echo, ("_cursor", page.next_cursor)])})
    bundle["link"] = links
    entries: list[dict[str, Any]] = [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
        for r in ([subset(m, req.elements) for m in page.matches] if req.elements else page.matches)
    ]
    entries += [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "include"}}
        for r in page.included
    ]
    if req.ignored:
        issue = Issue(code="not-supported", severity="warning",
                      diagnostics=f"ignored unknown search parameters: {', '.join(req.ignored)}",
                      expression=tuple(req.ignored))
        entries.append({"resource": operation_outcome([issue]), "search": {"mode": "outcome"}})
    if entries:
        bundle["entry"] = entries
    return bundle
