"""No INS value in any log line (SGL.INS.05): the HTTP access log of a search by INS, and an error
message quoting a matricule and its expected key, both reach the server log masked."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from resources.ins import OID_INS_NIR, ins_identifier_for
from server.access.logmask import mask_text
from server.settings import Settings
from tests.support.sgl_server import SglProcess
from tests.support.waits import log_with

pytestmark = pytest.mark.db
MATRICULE = "279035121518989"
LOG_WINDOW_S = Settings().log_window


@pytest.mark.req("SGL.INS.05")
async def test_ins_values_never_reach_the_server_log_SGL_INS_05(fhir: httpx.AsyncClient,
                                                               sgl_server: SglProcess) -> None:
    system = f"urn:oid:{OID_INS_NIR}"
    await asyncio.sleep(LOG_WINDOW_S + 1)  # past the log rate limit's window: the access line is written
    searched = await fhir.get("Patient", params={"identifier": f"{system}|{MATRICULE}"})
    assert searched.status_code == 200
    wrong_key = {**ins_identifier_for(MATRICULE, OID_INS_NIR), "value": MATRICULE[:13] + "00"}
    refused = await fhir.post("Patient", json={"resourceType": "Patient", "identifier": [wrong_key],
                                               "name": [{"family": "CLEMASQUEE"}]})
    assert refused.status_code in (400, 422) and MATRICULE[:13] in refused.text  # the caller is told
    # the server writes these lines after it answers: the log is read once they are there
    log = await log_with(sgl_server.log, "GET /fhir/Patient?identifier=", "[INS masqué]")
    assert MATRICULE not in log and MATRICULE[:13] not in log


def test_the_mask_keeps_what_is_not_an_ins() -> None:
    assert mask_text("2026-12-04 18:51:09,535 Observation/9b16dac9-26d0 port 40203") == (
        "2026-12-04 18:51:09,535 Observation/9b16dac9-26d0 port 40203")
    assert mask_text("identifier=urn%3Aoid%3A1.2.250.1.213.1.4.8%7C297022A02077878") == (
        "identifier=urn%3Aoid%3A1.2.250.1.213.1.4.8%7C[INS masqué]")
