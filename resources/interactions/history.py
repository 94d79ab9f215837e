"""Instance and type ``_history`` as a history Bundle, newest first, paged by keyset."""

from __future__ import annotations

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
    count_raw = params.get("_count", str(DEFAULT_COUNT))
    if not count_raw.isdigit() or int(count_raw) == 0:
        raise InvalidInput("_count must be a positive integer", expression="_count")
    count = min(int(count_raw), MAX_COUNT)
    page = await store.history(resource_type, rid, count=count, cursor=params.get("_cursor"))
    path = f"{base}/{resource_type}" + (f"/{rid}" if rid else "") + "/_history"
    links = [{"relation": "self", "url": f"{path}?{urlencode(pairs)}" if pairs else path}]
    if page.next_cursor:
        links.append({"relation": "next", "url": f"{path}?{urlencode({'_count': count, '_cursor': page.next_cursor})}"})
    entries = []
    for s in page.entries:
        url = f"{resource_type}/{s.id}"
        entry: dict[str, Any] = {
            "fullUrl": f"{base}/{url}",
            "request": {"method": s.method, "url": resource_type if s.method == "POST" else url},
            "response": {"status": "204" if s.method == "DELETE" else ("201" if s.method == "POST" else "200"),
                         "etag": s.etag, "lastModified": instant(s.last_updated)},
        }
        if s.resource is not None:
            entry["resource"] = s.resource
        entries.append(entry)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "history", "link": links}
    if entries:
        bundle["entry"] = entries
    return bundle
