"""A step is all or nothing: a failure after some of its writes leaves nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from resources.errors import RuleViolation
from resources.interactions import WriteIntent
from server.access.caller import Caller
from server.stored_catalog import CatalogRepository
from server.validation.rules import load_rules
from server.validation.technical import validate_technical
from tests.support.validation_lab import Lab

pytestmark = pytest.mark.db


async def test_failure_inside_the_transaction_rolls_back_the_earlier_writes(lab: Lab) -> None:
    patient = await lab.patient()
    [order] = await lab.order(patient)
    rid = await lab.result(patient, order, "NA", 140)
    seen: list[tuple[str, str, str | None]] = []

    async def refuse_reports(intent: WriteIntent) -> dict[str, Any] | None:
        if intent.written:  # told again once written (after_write): not a new write
            return None
        seen.append((intent.resource_type, intent.action, intent.step))
        if intent.resource_type == "DiagnosticReport":
            raise RuleViolation("TEST", "no report today", expression="DiagnosticReport")
        return intent.proposed

    with pytest.raises(RuleViolation):
        await validate_technical(lab.store, CatalogRepository(lab.store), refuse_reports,
                                 Caller("tester", "biologiste"), [rid], None, load_rules(None), autoverification=False)
    assert seen == [("Observation", "update", "technical-validation"),
                    ("DiagnosticReport", "create", "technical-validation")]
    stored = await lab.read("Observation", rid)
    assert stored["meta"]["versionId"] == "1" and "meta" in stored and not stored["meta"].get("tag")
    history = (await lab.client.get(f"Observation/{rid}/_history")).json()
    assert len(history["entry"]) == 1
