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


def _after_rules(seen: list[WriteIntent], store: Any) -> Any:
    """Server write rules whose Device after-rule records what it is told and writes a Communication about it,
    refusing (after the write) a Device named 'late-refusal'."""
    from server.access.caller import system
    from server.write_rules import WriteRules

    async def beside(caller: Any, intent: WriteIntent) -> None:
        seen.append(intent)
        assert intent.written and intent.proposed is not None
        if intent.proposed.get("manufacturer") == "late-refusal":
            raise RuleViolation("TEST.02", "refused once written", expression="Device")
        await store.create({"resourceType": "Communication", "status": "completed",
                            "about": [{"reference": f"Device/{intent.proposed['id']}"}]}, session=intent.session)

    rules = WriteRules()
    rules.add_after("Device", beside)
    return rules.for_caller(system("test"))


async def _notes_about(store: Any, rid: str) -> int:
    found = await interactions.search(store, "Communication", [("about", f"Device/{rid}")], base="http://x/fhir")
    return len(found.get("entry") or ())


async def test_an_after_write_rule_sees_the_new_id_and_writes_in_the_same_transaction(sgl_db: Database) -> None:
    seen: list[WriteIntent] = []
    rule = _after_rules(seen, sgl_db.store)
    created = await interactions.create(sgl_db.store, "Device", {"resourceType": "Device", "manufacturer": "A"},
                                        write_rule=rule)
    rid = created.resource["id"] if created.resource else ""
    assert [(i.action, i.proposed["id"] if i.proposed else None) for i in seen] == [("create", rid)]
    assert await _notes_about(sgl_db.store, rid) == 1
    updated = await interactions.update(sgl_db.store, "Device", rid, {**(created.resource or {}), "manufacturer": "B"},
                                        write_rule=rule)
    assert updated.status == 200 and seen[-1].action == "update" and seen[-1].current["manufacturer"] == "A"
    before = await _count(sgl_db, "Device"), await _count(sgl_db, "Communication")
    with pytest.raises(RuleViolation):  # refused after the write: neither the Device nor what was written beside
        await interactions.create(sgl_db.store, "Device", {"resourceType": "Device", "manufacturer": "late-refusal"},
                                  write_rule=rule)
    assert seen[-1].proposed is not None and seen[-1].proposed["manufacturer"] == "late-refusal"
    assert (await _count(sgl_db, "Device"), await _count(sgl_db, "Communication")) == before


async def _count(db: Database, rtype: str) -> int:
    found = await interactions.search(db.store, rtype, [("_summary", "count")], base="http://x/fhir")
    return int(found["total"])


async def test_an_after_write_rule_of_a_bundle_entry_sees_the_entries_created_after_it(sgl_db: Database) -> None:
    seen: list[WriteIntent] = []
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:7d1a0c2e-0000-4000-8000-000000000001",
         "resource": {"resourceType": "Device", "manufacturer": "C",
                      "parent": {"reference": "urn:uuid:7d1a0c2e-0000-4000-8000-000000000002"}},
         "request": {"method": "POST", "url": "Device"}},
        {"fullUrl": "urn:uuid:7d1a0c2e-0000-4000-8000-000000000002",
         "resource": {"resourceType": "Device", "manufacturer": "D"}, "request": {"method": "POST", "url": "Device"}}]}
    await interactions.process_bundle(sgl_db.store, bundle, base="http://x/fhir", write_rule=_after_rules(
        seen, sgl_db.store))
    child = next(i.proposed for i in seen if i.proposed and i.proposed["manufacturer"] == "C")
    assert child is not None
    parent = child["parent"]["reference"].split("/")[1]
    assert (await sgl_db.store.read("Device", parent)).resource is not None  # stored before C's rule was told
