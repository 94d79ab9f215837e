"""Dossiers for the document tests: a patient with full traits (qualified INS or not), an order, results."""

from __future__ import annotations

import copy
from typing import Any

from tests.support import crbio_samples as samples
from tests.support.documents_wait import wait_for_documents
from tests.support.validation_lab import Lab, parameters


async def patient(lab: Lab, qualified: bool = True) -> str:
    """Stored directly: the identity write rule is not what these tests are about."""
    body = copy.deepcopy(samples.patient(qualified))
    body.pop("id")
    return (await lab.store.create(body)).id


async def validated_report(lab: Lab, results: dict[str, float], *, qualified: bool = True,
                           pending: dict[str, float] | None = None, pid: str | None = None,
                           when: str = "2026-11-20T08:00:00+01:00") -> tuple[str, dict[str, Any], list[str]]:
    """Results technically then biologically validated; ``pending`` ones (ids returned) are left technically
    validated only. Returns the patient id, the report as stored once its documents are made, the pending
    result ids."""
    pid = pid or await patient(lab, qualified)
    (request,) = await lab.order(pid)
    ids = [await lab.result(pid, request, code, value, when=when) for code, value in results.items()]
    waiting = [await lab.result(pid, request, code, value) for code, value in (pending or {}).items()]
    for rid in ids:
        assert (await lab.validate(rid)).status_code == 200
    report = await lab.report_of(ids[0])
    answer = await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    for rid in waiting:
        assert (await lab.validate(rid)).status_code == 200
    return pid, await wait_for_documents(lab.client, report["id"]), waiting
