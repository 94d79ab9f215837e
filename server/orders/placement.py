"""Writing an order: accession numbers, then every resource of it in ONE transaction, traced.

Shared by the ``$order`` operation and the HL7 OML^O21 handler. Either everything is stored (the
ServiceRequests, the Specimens, a new Patient when the sender's is unknown, the refusals and the
Provenance) or nothing is.
"""

from __future__ import annotations

from typing import Any

from resources.interactions import ReferenceCheck, WriteRule, create
from resources.store.base import Stored
from resources.store.mongo import MongoFhirStore
from server.access.caller import Caller
from server.audit import provenance
from server.orders.counters import ACCESSION, take_numbers
from server.orders.refusals import record_refusal
from server.orders.requisition import Requisition, build_resources
from server.orders.trace import stored_of


async def write_order(store: MongoFhirStore, order: Requisition, *, caller: Caller, write_rule: WriteRule | None,
                      refusals: tuple[str, ...] = (), also_create: tuple[dict[str, Any], ...] = (),
                      source: str) -> list[Stored]:
    """Store ``order`` (and ``also_create``, resources with ids chosen beforehand) all or nothing.

    ``refusals`` are channel codes the patient refused (refusals.py); ``source`` says where the
    order came from, in the Provenance reason. Returns every version written.
    """
    accessions = await take_numbers(store.db, ACCESSION, len(order.tubes()))
    resources = [*also_create, *build_resources(order, accessions)]
    refs = ReferenceCheck(deferred=True)  # the resources name one another (a request its tubes, a tube its request)
    async with store.transaction() as session:
        written = [stored_of(await create(store, r["resourceType"], r, session=session, write_rule=write_rule,
                                          rid=r["id"], references=refs))
                   for r in resources]
        await refs.verify(store, session)
        trace = provenance(written, caller, "CREATE", f"order received from {source}")
        written.append(stored_of(await create(store, "Provenance", trace, session=session, write_rule=write_rule)))
        requests = [f"ServiceRequest/{s.id}" for s in written if s.resource_type == "ServiceRequest"]
        for channel in refusals:
            written += await record_refusal(store, patient=order.patient, requests=requests, channel=channel,
                                            refused=True, caller=caller, session=session, write_rule=write_rule)
    return written
