"""The audit chain: AuditEvent and Provenance are append-only, and a hash chain proves none was
removed or altered afterwards (``sgl audit verify``).

Each one gets a link, written with it (same session, so an aborted transaction leaves no link): its
reference and the SHA-256 of the stored resource. Links are sealed afterwards in one order, outside
the business transactions so that writers never contend: the sealer gives the next link the next
number and ``chain = sha256(previous chain + digest)``, head and link together in one transaction.
:func:`verify` recomputes everything: a missing number is a gap (a link deleted), a link without its
resource or with another digest is a deletion or an alteration, a trail resource without a link was
written around the store. The head's chain value printed by the verification can be kept elsewhere as
an anchor.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from resources.fhirjson import dumps

CHAINED = ("AuditEvent", "Provenance")
LINKS = "audit_chain"
HEAD = "audit_chain_head"
GENESIS = "0" * 64
SEAL_BATCH = 1000


def resource_digest(resource: dict[str, Any]) -> str:
    return hashlib.sha256(dumps(resource, option=orjson.OPT_SORT_KEYS)).hexdigest()


def next_chain(previous: str, digest: str) -> str:
    return hashlib.sha256(f"{previous}{digest}".encode()).hexdigest()


def new_link(resource: dict[str, Any], at: Any) -> dict[str, Any]:
    return {"_id": f"{resource['resourceType']}/{resource['id']}", "digest": resource_digest(resource), "at": at,
            "seq": None, "chain": None}


async def seal(db: AsyncDatabase[Any], limit: int = SEAL_BATCH) -> int:
    """Number and chain the pending links, oldest first; returns how many were sealed (0 if another
    sealer holds the head)."""
    sealed = 0
    pending = await db[LINKS].find({"seq": None}).sort([("at", 1), ("_id", 1)]).limit(limit).to_list()
    for link in pending:
        head = await db[HEAD].find_one({"_id": "head"}) or {"seq": 0, "chain": GENESIS}
        seq, chain = head["seq"] + 1, next_chain(head["chain"], link["digest"])
        try:
            async with db.client.start_session() as session, await session.start_transaction():
                moved = await db[HEAD].update_one({"_id": "head", "seq": head["seq"]},
                                                  {"$set": {"seq": seq, "chain": chain}},
                                                  upsert=head["seq"] == 0, session=session)
                if moved.matched_count == 0 and moved.upserted_id is None:
                    await session.abort_transaction()
                    return sealed
                await db[LINKS].update_one({"_id": link["_id"], "seq": None}, {"$set": {"seq": seq, "chain": chain}},
                                           session=session)
        except PyMongoError:
            return sealed  # another sealer moved the head first: it carries on
        sealed += 1
    return sealed


@dataclass
class ChainReport:
    sealed: int = 0
    pending: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems


async def verify(db: AsyncDatabase[Any]) -> ChainReport:
    """Recompute the chain and compare every link with its resource (reads everything, in seq order)."""
    report = ChainReport()
    head = await db[HEAD].find_one({"_id": "head"}) or {"seq": 0, "chain": GENESIS}
    chain, expected, linked = GENESIS, 1, set()
    async for link in db[LINKS].find({"seq": {"$ne": None}}).sort("seq", 1):
        linked.add(link["_id"])
        if link["seq"] != expected:
            report.problems.append(f"gap: link(s) {expected}..{link['seq'] - 1} missing before {link['_id']}")
            chain = link["chain"]  # continue from what is there, to report the later problems too
        else:
            chain = next_chain(chain, link["digest"])
            if chain != link["chain"]:
                report.problems.append(f"link {link['seq']} ({link['_id']}): chain value does not follow")
                chain = link["chain"]
        expected = link["seq"] + 1
        rtype, rid = link["_id"].split("/", 1)
        doc = await db[rtype].find_one({"_id": rid}, projection={"r": 1})
        if doc is None:
            report.problems.append(f"link {link['seq']}: {link['_id']} was deleted")
        elif resource_digest(doc["r"]) != link["digest"]:
            report.problems.append(f"link {link['seq']}: {link['_id']} was altered after it was written")
        report.sealed += 1
    if head["seq"] >= expected:
        report.problems.append(f"gap: link(s) {expected}..{head['seq']} missing at the end of the chain")
    if head["seq"] and head["chain"] != chain and not report.problems:
        report.problems.append("the head does not match the last link")
    report.head = head["chain"]
    pending = {link["_id"] async for link in db[LINKS].find({"seq": None}, projection={"_id": 1})}
    report.pending = len(pending)
    for rtype in CHAINED:
        async for doc in db[rtype].find({}, projection={"_id": 1}):
            ref = f"{rtype}/{doc['_id']}"
            if ref not in linked and ref not in pending:
                report.problems.append(f"{ref} has no link: written outside the store")
    return report
