"""SGL.DOC.02 in the browser: on a lab that makes two CR-Bio versions (patient and professional), the report's
documents screen switches between them (``web/e2e/results-versions.test.mjs``).

One real ``sgl serve`` for the module with the workbench's lab data (``tests/support/workbench.py``); the
administrator chooses two versions over ``Organization/$lab-profile`` before the earlier report is validated,
so its documents are made in both versions. From the outside afterwards: the server holds both versions of
that report, each saying whom it is for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from server.documents.audience import COPY_LABEL, PATIENT, PROFESSIONAL
from tests.support.access import role_client
from tests.support.documents_wait import wait_for_documents
from tests.support.sgl_server import SglProcess, start_sgl
from tests.support.workbench import SERVER_ENV, WEB, browser_suite, seed

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def versions_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    server = start_sgl(tmp_path_factory.mktemp("web-versions") / "var",
                       env={**SERVER_ENV, "SGL_DOCUMENT_WORKERS": "1"})
    yield server
    server.stop()


def _values(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    return {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in answer.json()["parameter"]}


@pytest.mark.req("SGL.DOC.02")
async def test_the_patient_and_professional_versions_switch_in_the_browser_SGL_DOC_02(
        versions_server: SglProcess) -> None:
    async with role_client(versions_server.base, versions_server.data_dir, "administrateur") as admin:
        shown = _values(await admin.get("Organization/$lab-profile"))
        body = {"resourceType": "Parameters", "parameter": [
            {"name": "rgpd", "valueString": shown["rgpd"]}, {"name": "versions", "valueCode": "patient-professional"}]}
        chosen = _values(await admin.post("Organization/$lab-profile", json=body))
        assert chosen["versions"] == "patient-professional"
    ids = await seed(versions_server)
    async with role_client(versions_server.base, versions_server.data_dir, "biologiste") as reader:
        await wait_for_documents(reader, ids["earlier_report"])  # the page offers the switch once both are made
    browser_suite("results-versions", versions_server, ids, WEB / "e2e" / "screenshots")
    async with role_client(versions_server.base, versions_server.data_dir, "biologiste") as reader:
        for audience in (PATIENT, PROFESSIONAL):  # what the page showed is what the server holds
            n3 = await reader.get(f"DiagnosticReport/{ids['earlier_report']}/$cr-bio",
                                  params={"format": "n3", "audience": audience})
            assert n3.status_code == 200, n3.text
            assert COPY_LABEL[audience] in n3.text
            assert COPY_LABEL[PATIENT if audience == PROFESSIONAL else PROFESSIONAL] not in n3.text
