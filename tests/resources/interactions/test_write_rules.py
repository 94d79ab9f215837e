"""Write rules see every write (create, update, delete, bundles) and can amend or refuse it."""

from __future__ import annotations

from typing import Any

import pytest

from resources import interactions
from resources.errors import RuleViolation
from resources.interactions import WriteIntent
from server.database import Database

pytestmark = pytest.mark.db



class Recorder:
    """Tags every Device it lets through; refuses a Device whose new manufacturer is 'forbidden'."""

    def __init__(self) -> None:
        self.seen: list[WriteIntent] = []

    async def __call__(self, intent: WriteIntent) -> dict[str, Any] | None:
        self.seen.append(intent)
        if intent.proposed and intent.proposed.get("manufacturer") == "forbidden":
            raise RuleViolation("TEST.01", "forbidden manufacturer", expression="Device.manufacturer")
        if intent.proposed is None:
            return None
        return {**intent.proposed, "note": [{"text": "checked"}]}


async def test_write_rule_amends_creates_and_sees_the_current_version_on_update(sgl_db: Database) -> None:
    write_rule = Recorder()
    created = await interactions.create(sgl_db.store, "Device", {"resourceType": "Device", "manufacturer": "A"},
                                        write_rule=write_rule)
    assert created.resource is not None and created.resource["note"] == [{"text": "checked"}]
    rid = created.resource["id"]
    await interactions.update(sgl_db.store, "Device", rid, {**created.resource, "manufacturer": "B"},
                              write_rule=write_rule)
    assert write_rule.seen[-1].action == "update" and write_rule.seen[-1].current["manufacturer"] == "A"
    with pytest.raises(RuleViolation) as refused:
        await interactions.update(sgl_db.store, "Device", rid, {**created.resource, "manufacturer": "forbidden"},
                                  write_rule=write_rule)
    assert refused.value.status == 422 and refused.value.expression == ["Device.manufacturer"]
    assert (await sgl_db.store.read("Device", rid)).resource["manufacturer"] == "B"
    await interactions.delete(sgl_db.store, "Device", rid, write_rule=write_rule)
    assert write_rule.seen[-1].action == "delete" and write_rule.seen[-1].proposed is None


async def test_write_rule_refusal_in_a_transaction_writes_nothing(sgl_db: Database) -> None:
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Device", "manufacturer": "tx-ok"},
         "request": {"method": "POST", "url": "Device"}},
        {"resource": {"resourceType": "Device", "manufacturer": "forbidden"},
         "request": {"method": "POST", "url": "Device"}},
    ]}
    with pytest.raises(RuleViolation) as refused:
        await interactions.process_bundle(sgl_db.store, bundle, base="http://x/fhir", write_rule=Recorder())
    assert refused.value.expression[0] == "Bundle.entry[1]"
    found = await sgl_db.db["Device"].count_documents({"r.manufacturer": "tx-ok"})
    assert found == 0
