"""``POST /fhir/ServiceRequest/$refusal``: record or change a patient's refusal for a dossier later on.

In (``Parameters``):

| name | cardinality | type | meaning |
|---|---|---|---|
| requisition | 1..1 | Identifier | the dossier (``ServiceRequest.requisition``) |
| channel | 1..1 | code | mssante-pro (SGL.MSS.16), mssante-patient (SGL.MSS.19), dmp (SGL.DMP.02) |
| refused | 1..1 | boolean | true: the patient refuses; false: the patient accepts after all |

Out: a ``transaction-response`` Bundle with the Consent version and its Provenance (no entry when
the choice did not change). Earlier versions stay readable in the Consent's ``_history``.
"""

from __future__ import annotations

from typing import Any

from resources.errors import InvalidInput, Unprocessable
from resources.interactions import WriteRule
from resources.interactions.search import plan_search
from resources.search.query import MAX_COUNT
from resources.store.mongo import MongoFhirStore
from server.access.caller import Caller
from server.orders.parameters import parameters, required
from server.orders.refusals import check_channel, record_refusal
from server.orders.responses import transaction_response

NAMES = {"requisition", "channel", "refused"}


async def change_refusal(store: MongoFhirStore, body: Any, *, caller: Caller,
                         write_rule: WriteRule | None) -> dict[str, Any]:
    params = parameters(body, NAMES)
    ident_param = required(params, "requisition")
    ident = ident_param.value("Identifier")
    channel_param = required(params, "channel")
    channel = check_channel(str(channel_param.value("Code")), f"{channel_param.where}.valueCode")
    refused_param = required(params, "refused")
    refused = refused_param.value("Boolean")
    if not isinstance(refused, bool):
        raise InvalidInput("refused must be true or false", expression=f"{refused_param.where}.valueBoolean")
    if not isinstance(ident, dict) or not ident.get("value"):
        raise InvalidInput("requisition needs a value", expression=f"{ident_param.where}.valueIdentifier")
    token = f"{ident.get('system', '')}|{ident['value']}" if ident.get("system") else str(ident["value"])
    async with store.transaction() as session:
        req = await plan_search(store, "ServiceRequest", [("requisition", token), ("_count", str(MAX_COUNT))],
                                strict=True, session=session)
        requests = (await store.search(req, session=session)).matches
        if not requests:
            raise Unprocessable(f"no order has the requisition {token}",
                                expression=f"{ident_param.where}.valueIdentifier")
        patients = {r.get("subject", {}).get("reference") for r in requests}
        if len(patients) != 1:
            raise Unprocessable(f"requisition {token} spans {len(patients)} patients",
                                expression=f"{ident_param.where}.valueIdentifier")
        written = await record_refusal(store, patient=str(patients.pop()),
                                       requests=[f"ServiceRequest/{r['id']}" for r in requests],
                                       channel=channel, refused=refused, caller=caller, session=session,
                                       write_rule=write_rule)
    return transaction_response(written)

