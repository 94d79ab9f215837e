"""Instance and type ``_history`` as a history Bundle, newest first, paged by keyset.

Parameters: ``_count``, ``_since`` (an instant with its offset: the versions written at or after it) and the paging
cursor. Any other (``_at``, ``_list``, a typo) is a 400: before, they were ignored without a word and ``_since``
too, so ``_since=<tomorrow>`` answered the whole history as if all of it were new.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from resources.errors import InvalidInput
from resources.fhirjson import instant
from resources.interactions.common import check_id, check_type
from resources.search.query import DEFAULT_COUNT, MAX_COUNT
from resources.store.base import FhirStore


async def history(store: FhirStore, resource_type: str, rid: str | None, pairs: list[tuple[str, str]], *,
                  base: str) -> dict[str, Any]:
    check_type(resource_type)
    if rid is not None:
        check_id(rid)
    params = dict(pairs)
    unknown = sorted(set(params) - {"_count", "_since", "_cursor"})
    if unknown:
        raise InvalidInput(f"_history takes _count and _since, not {', '.join(unknown)}", expression=unknown[0])
    since = _instant(params["_since"]) if "_since" in params else None
    count_raw = params.get("_count", str(DEFAULT_COUNT))
    if not count_raw.isdigit() or int(count_raw) == 0:
        raise InvalidInput("_count must be a positive integer", expression="_count")
    count = min(int(count_raw), MAX_COUNT)
    page = await store.history(resource_type, rid, count=count, cursor=params.get("_cursor"))
    kept = [s for s in page.entries if since is None or s.last_updated >= since]  # newest first: older ones end it
    path = f"{base}/{resource_type}" + (f"/{rid}" if rid else "") + "/_history"
    served = [(k, str(count)) if k == "_count" else (k, v) for k, v in pairs]  # the count served, not the one asked
    links = [{"relation": "self", "url": f"{path}?{urlencode(served)}" if served else path}]
    if page.next_cursor and len(kept) == len(page.entries):
        following = {"_count": str(count), **({"_since": params["_since"]} if since else {}),
                     "_cursor": page.next_cursor}
        links.append({"relation": "next", "url": f"{path}?{urlencode(following)}"})
    entries = []
    for s in kept:
        url = f"{resource_type}/{s.id}"
        entry: dict[str, Any] = {
            "fullUrl": f"{base}/{url}",
            "request": {"method": s.method, "url": resource_type if s.method == "POST" else url},
            "response": {"status": _status(s.method, s.vid),
                         "etag": s.etag, "lastModified": instant(s.last_updated)},
        }
        if s.resource is not None:
            entry["resource"] = s.resource
        entries.append(entry)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "history", "link": links}
    if entries:
        bundle["entry"] = entries
    return bundle


def _instant(raw: str) -> datetime:
    """``_since``: a FHIR instant (``2026-12-05T10:00:00Z``, an offset is required), as the store's naive UTC."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in raw:
        raise InvalidInput(f"_since {raw!r} is not an instant with its offset (e.g. 2026-12-05T10:00:00Z)",
                           expression="_since")
    return moment.astimezone(UTC).replace(tzinfo=None)


def _status(method: str, vid: int) -> str:
    """What the write that made this version answered: a first version is a create, 201 whether it came by POST or
    by a PUT that created the resource (update-as-create); it said 200 for the latter."""
    if method == "DELETE":
        return "204"
    return "201" if method == "POST" or vid == 1 else "200"
