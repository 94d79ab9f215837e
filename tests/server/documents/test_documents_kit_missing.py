"""Without the ANS CDA kit (issue 10 item 16): ``sgl serve`` starts, logs exactly what is missing and how to
install it, and a report validated then gets no document but a worklist Task with that reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.dedicated_lab import dedicated_lab
from tests.support.documents_wait import documents_status, wait_for_documents
from tests.support.dossiers import patient
from tests.support.validation_lab import Lab, parameters
from tests.support.worklist import worklist


@pytest.fixture(scope="module")
async def bare(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Lab, Path, Path]]:
    folder = tmp_path_factory.mktemp("no-kit")
    empty = folder / "kit-not-installed"
    async with dedicated_lab(folder / "var", {"SGL_CDA_KIT_DIR": str(empty)}) as lab:
        yield lab, folder, empty


async def test_startup_log_names_the_missing_kit_and_the_install_command(bare: tuple[Lab, Path, Path]) -> None:
    _, folder, empty = bare
    [log] = folder.glob("sgl-*.log")
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if "ANS CDA kit" in line]
    assert len(lines) == 1, lines
    assert "ERROR" in lines[0] and str(empty) in lines[0]
    assert "630 of 630 files missing" in lines[0] and "infrastructure/cda/CDA_extended.xsd" in lines[0]
    assert "sgl kit install" in lines[0]


async def test_validated_report_gets_a_task_naming_the_missing_kit_and_no_document(bare: tuple[Lab, Path, Path]
                                                                                   ) -> None:
    lab, _, empty = bare
    pid = await patient(lab)
    [order] = await lab.order(pid)
    rid = await lab.result(pid, order, "NA", 139)
    assert (await lab.validate(rid)).status_code == 200
    report = await lab.report_of(rid)
    answer = await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    after = await wait_for_documents(lab.client, report["id"], expect="failed")
    reason = documents_status(after)["reason"]
    assert str(empty) in reason and "sgl kit install" in reason
    assert "presentedForm" not in after and (await lab.read("Observation", rid))["status"] == "final"
    [task] = await worklist(lab.client, "document-production-failed", f"DiagnosticReport/{report['id']}")
    assert "sgl kit install" in task["description"]
    crbio = await lab.client.get(f"DiagnosticReport/{report['id']}/$cr-bio")
    assert crbio.status_code == 422
