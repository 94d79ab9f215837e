"""Users and correspondents follow the directory (SGL.ANN.02, SGL.ANN.03).

After a load of the PS file:

- each local user with an RPPS gets the directory's name for that RPPS and, when the account names no
  Practitioner yet, the link to the directory's Practitioner (``users.directory``: ``found`` or ``absent``);
- each Practitioner the lab created itself (a prescriber or copy recipient in a dossier, not tagged as
  coming from the directory) that carries a national PS id (IDNPS or RPPS) takes the directory's name,
  qualifications (TRE_G15 / TRE_R38) and MSSanté addresses; one that has no national id, or whose id is
  not an active professional of the directory, is tagged ``absent-annuaire`` (searchable with ``_tag``)
  so the secretary sees it must be checked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from facades.annuaire import IDNPS_SYSTEM, RPPS_SYSTEM, TAG_CODE, TAG_SYSTEM, practitioner_id
from resources.store.mongo import MongoFhirStore
from server.access.collections import USERS

ID_PREFIX = practitioner_id("")
"""Every directory resource's id starts with it (``as-<national id>``, ``as-<structure technical id>``)."""

_LAST_STRING = "\U0010ffff"
"""Above any tag value (a code or ``system|code``)."""
ABSENT = {"system": TAG_SYSTEM, "code": "absent-annuaire", "display": "absent de l'Annuaire Santé"}


def national_id(practitioner: dict[str, Any]) -> str | None:
    for ident in practitioner.get("identifier", []):
        value = str(ident.get("value") or "")
        if ident.get("system") == IDNPS_SYSTEM and value:
            return value
        if ident.get("system") in (RPPS_SYSTEM, "urn:oid:1.2.250.1.71.4.2.1") and len(value) == 11:
            return "8" + value
    return None


def display_name(practitioner: dict[str, Any]) -> str:
    name = (practitioner.get("name") or [{}])[0]
    return " ".join([*name.get("given", []), name.get("family", "")]).strip()


async def _directory(store: MongoFhirStore, idnat: str) -> dict[str, Any] | None:
    doc = await store.db["Practitioner"].find_one({"_id": practitioner_id(idnat), "r.active": True},
                                                  projection={"r": 1})
    return doc["r"] if doc else None


async def follow_users(store: MongoFhirStore) -> dict[str, int]:
    counts = {"usersFound": 0, "usersAbsent": 0}
    async for user in store.db[USERS].find({"rpps": {"$type": "string"}}, projection={"rpps": 1, "practitioner": 1}):
        directory = await _directory(store, "8" + user["rpps"])
        if directory is None:
            await store.db[USERS].update_one({"_id": user["_id"]}, {"$set": {"directory": "absent"}})
            counts["usersAbsent"] += 1
            continue
        change: dict[str, Any] = {"directory": "found", "name": display_name(directory)}
        if not user.get("practitioner"):
            change["practitioner"] = f"Practitioner/{directory['id']}"
        await store.db[USERS].update_one({"_id": user["_id"]}, {"$set": change})
        counts["usersFound"] += 1
    return counts


def _tags(resource: dict[str, Any], absent: bool) -> list[dict[str, Any]]:
    tags = [t for t in (resource.get("meta") or {}).get("tag", []) if t.get("code") != ABSENT["code"]]
    return tags + [ABSENT] if absent else tags


def _followed(local: dict[str, Any], directory: dict[str, Any] | None) -> dict[str, Any]:
    meta = {k: v for k, v in (local.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")}
    meta["tag"] = _tags(local, directory is None)
    if not meta["tag"]:
        del meta["tag"]
    out = {**local, "meta": meta}
    if directory is None:
        return out
    out["name"] = directory["name"]
    if directory.get("qualification"):
        out["qualification"] = directory["qualification"]
    mss = [t for t in directory.get("telecom", []) if t.get("extension")]
    others = [t for t in local.get("telecom", []) if not t.get("extension")]
    if mss or others:
        out["telecom"] = others + mss
    return out


async def _local_practitioners(store: MongoFhirStore) -> AsyncIterator[dict[str, Any]]:
    """The lab's own Practitioners: those without a tag, and those whose tags fall outside the directory's
    tag values, each read by the ``_tag`` index. Why not by ``_id`` or ``$ne``: SecantusDB answers a range of
    ``_id`` (its ``_id`` index is virtual) or an unindexed query by reading the whole collection into its
    memory first (450 MB for the 30,000 directory Practitioners of a 32k-line load, and the driver gave up
    on the database while it did)."""
    # every bound a string: SecantusDB's index walk is not limited to the type of an open bound, and past the
    # last string come the whole-array entries of every tagged document (a `$gt` alone read them all: 1.9 GB)
    bounds = ["", *sorted({f"{TAG_SYSTEM}|{TAG_CODE}", TAG_CODE}), _LAST_STRING]
    ranges: list[dict[str, Any]] = [{"$eq": None}]
    ranges += [{"$gt": low, "$lt": high} for low, high in zip(bounds, bounds[1:], strict=False)]
    ranges[1] = {"$gte": "", "$lt": bounds[1]}
    seen: set[str] = set()
    for tags in ranges:
        async for doc in store.db["Practitioner"].find({"s._tag": tags}, projection={"r": 1}):
            if doc["_id"] in seen:  # several tags: found by several ranges
                continue
            seen.add(doc["_id"])
            if all(t.get("code") != TAG_CODE for t in (doc["r"].get("meta") or {}).get("tag", [])):
                yield doc["r"]


async def follow_correspondents(store: MongoFhirStore) -> dict[str, int]:
    counts = {"correspondentsUpdated": 0, "correspondentsAbsent": 0}
    async for local in _local_practitioners(store):
        idnat = national_id(local)
        directory = await _directory(store, idnat) if idnat else None
        wanted = _followed(local, directory)
        counts["correspondentsAbsent" if directory is None else "correspondentsUpdated"] += 1
        if wanted != local:
            await store.update(wanted)
    return counts


async def follow_directory(store: MongoFhirStore) -> dict[str, int]:
    return {**await follow_users(store), **await follow_correspondents(store)}
