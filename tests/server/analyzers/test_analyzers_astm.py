"""ASTM analyzer sessions over the real ASTM listener of ``sgl serve``: results stored, host query answered."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
import pytest

from facades.astm import (
    AstmLinkError,
    Header,
    Message,
    Order,
    Patient,
    Query,
    Result,
    Timeouts,
    build_message,
    parse_message,
    send_message,
)
from facades.astm import TestId as AstmTestId
from facades.astm.framing import ACK, ENQ, EOT, build_frame
from server.inbound.journal import COLLECTION
from terminology.loinc import LOINC_SYSTEM
from tests.support.analyzer_lab import Tube, coding, new_tube, search, seed_catalog
from tests.support.raw_instrument import RawInstrument
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db
CATALOG = "https://opensgl.org/fhir/CodeSystem/catalogue"
RUN = datetime(2026, 11, 26, 10, 12, 0)


@pytest.fixture(scope="module", autouse=True)
async def catalogue(fhir: httpx.AsyncClient) -> None:
    await seed_catalog(fhir)


def results_message(accession: str, *results: tuple[str, str, str], run: datetime = RUN) -> str:
    rows = [Result(AstmTestId(code), value=value, units=unit, abnormal_flags="N", completed_at=run)
            for code, value, unit in results]
    return build_message(Message(header=Header(sender=("BIO1",)),
                                 patients=[Patient(orders=[Order(specimen_id=accession, results=rows)])]))


async def send(server: SglProcess, text: str) -> str | None:
    return await send_message("127.0.0.1", server.astm_port, text)


async def observations(fhir: httpx.AsyncClient, tube: Tube) -> list[dict]:
    return await search(fhir, "Observation", specimen=f"Specimen/{tube.specimen_id}")


async def test_astm_session_with_several_results_creates_matched_observations(sgl_server, fhir) -> None:
    tube = await new_tube(fhir, ("GLY", "IONO"))
    await send(sgl_server, results_message(tube.accession, ("GLU", "0.98", "g/L"), ("NA", "141", "mmol/L"),
                                           ("K", "<2.0", "mmol/L"), ("CL", "102", "")))
    found = {coding(o, CATALOG): o for o in await observations(fhir, tube)}
    assert sorted(found) == ["CL", "GLU", "K", "NA"]
    assert coding(found["GLU"], LOINC_SYSTEM) == "2345-7"
    assert found["GLU"]["basedOn"] == [{"reference": f"ServiceRequest/{tube.requests['GLY']}"}]
    assert found["NA"]["basedOn"] == [{"reference": f"ServiceRequest/{tube.requests['IONO']}"}]
    assert found["K"]["valueQuantity"] == {"value": 2.0, "comparator": "<", "unit": "mmol/L",
                                           "system": "http://unitsofmeasure.org", "code": "mmol/L"}
    assert found["CL"]["valueQuantity"]["code"] == "mmol/L"  # no unit sent: the catalogue's main unit
    assert all(o["subject"]["reference"] == f"Patient/{tube.patient_id}" for o in found.values())


async def test_repeated_astm_message_creates_no_duplicate(sgl_server, fhir) -> None:
    tube = await new_tube(fhir)
    text = results_message(tube.accession, ("GLU", "1.10", "g/L"))
    await send(sgl_server, text)
    await send(sgl_server, text)
    assert len(await observations(fhir, tube)) == 1


async def test_astm_unit_not_in_the_catalogue_goes_to_the_worklist(sgl_server, fhir) -> None:
    tube = await new_tube(fhir)
    await send(sgl_server, results_message(tube.accession, ("GLU", "5.4", "mmol/L")))  # GLU is g/L or mg/dL
    [obs] = await observations(fhir, tube)
    assert obs["valueQuantity"] == {"value": 5.4, "unit": "mmol/L"}
    [task] = await search(fhir, "Task", focus=f"Observation/{obs['id']}")
    assert task["status"] == "requested" and task["statusReason"]["coding"][0]["code"] == "unit-mismatch"


async def test_host_query_is_answered_with_the_tests_of_the_tube_for_that_analyzer(sgl_server, fhir) -> None:
    tube = await new_tube(fhir, ("GLY", "IONO"))
    query = build_message(Message(header=Header(sender=("BIO1",)),
                                  queries=[Query(specimen_id=tube.accession, extra_ids=("R12", "3"))]))
    answer = await send_message("127.0.0.1", sgl_server.astm_port, query, expect_reply=True, reply_timeout=30)
    assert answer is not None
    download = parse_message(answer)
    [patient] = download.patients
    [order] = patient.orders
    assert order.specimen_id == tube.accession and order.action_code == "N"
    assert order.instrument_specimen_extra == ("R12", "3")
    assert [t.local_code for t in order.tests] == ["GLU", "GLUM", "NA", "K", "CL", "CO2"]
    assert patient.name.last == "MARTIN" and patient.sex == "F"


async def test_host_query_for_an_unknown_tube_ends_with_no_order(sgl_server) -> None:
    query = build_message(Message(header=Header(sender=("BIO1",)), queries=[Query(specimen_id="NO-SUCH-TUBE")]))
    answer = await send_message("127.0.0.1", sgl_server.astm_port, query, expect_reply=True, reply_timeout=30)
    assert answer is not None
    download = parse_message(answer)
    assert download.patients == [] and download.termination_code == "I"


async def test_message_the_store_refuses_is_nakked_whole_and_the_next_one_is_stored(sgl_server, fhir) -> None:
    tube = await new_tube(fhir)
    refused = results_message(tube.accession, ("GLU", "1.00", "g/L"), ("A  B", "1", "g/L"))  # "A  B": not a FHIR code
    with pytest.raises(AstmLinkError):  # NAKed at every retry of the final frame
        await send_message("127.0.0.1", sgl_server.astm_port, refused, timeouts=Timeouts(max_retries=2))
    assert await observations(fhir, tube) == []
    await send(sgl_server, results_message(tube.accession, ("GLU", "1.00", "g/L")))
    assert len(await observations(fhir, tube)) == 1


async def test_a_message_ended_by_etx_and_eot_without_its_l_record_is_kept_not_dropped(sgl_server, sgl_db,
                                                                                        fhir) -> None:
    """Found by probing the ASTM listener: an instrument sending one record per ETX frame and no L record,
    then EOT, had every frame ACKed (E1381: an ETX frame ends a message) and the message dropped with a log
    line. It is now in the inbound journal (quarantined, with the reason) for a person to act on."""
    tube = await new_tube(fhir)
    records = ["H|\\^&|||BIO1^5.2|||||OpenSGL||P|LIS2-A2|20261126101500",
               "P|1||PAT-9||MARTIN^CLAIRE", f"O|1|{tube.accession}||^^^GLU|R",
               "R|1|^^^GLU|1.07|g/L|0.70-1.10|N||F||||20261126101200"]
    reader, writer = await asyncio.open_connection("127.0.0.1", sgl_server.astm_port)
    instrument = RawInstrument(reader, writer)
    try:
        await instrument.send(ENQ)
        assert await instrument.answer(30) == ACK
        for number, record in enumerate(records, 1):
            await instrument.send(build_frame(number, (record + "\r").encode("ascii"), final=True))
            assert await instrument.answer(30) == ACK
        await instrument.send(EOT)
        raw = "".join(r + "\r" for r in records).encode("ascii")
        entry = None
        for _ in range(100):  # the journal entry is written after EOT, nothing is answered to wait on
            entry = await sgl_db.db[COLLECTION].find_one({"raw": raw})
            if entry is not None:
                break
            await asyncio.sleep(0.2)
    finally:
        writer.close()
    assert entry is not None and entry["status"] == "quarantined" and "no L terminator record" in entry["detail"]


async def test_results_sent_with_a_query_in_one_message_are_stored_and_the_query_answered(sgl_server,
                                                                                          fhir) -> None:
    """Found by probing the ASTM listener: a message carrying R records and a Q record (results of one tube, the
    work order of the next) went to the host query only; its final frame was ACKed and the result kept nowhere
    but the raw journal."""
    done, next_tube = await new_tube(fhir), await new_tube(fhir, ("GLY", "IONO"))
    text = ("H|\\^&|||BIO1^5.2|||||OpenSGL||P|LIS2-A2|20261126101500\r"
            f"P|1||PAT-7||MARTIN^CLAIRE\rO|1|{done.accession}||^^^GLU|R\r"
            "R|1|^^^GLU|1.07|g/L|0.70-1.10|N||F||||20261126101200\r"
            f"Q|1|^{next_tube.accession}||ALL||||||||O\rL|1|N\r")
    answer = await send_message("127.0.0.1", sgl_server.astm_port, text, expect_reply=True, reply_timeout=30)
    assert answer is not None
    [patient] = parse_message(answer).patients
    assert patient.orders[0].specimen_id == next_tube.accession
    [glucose] = await observations(fhir, done)
    assert glucose["valueQuantity"]["value"] == 1.07


async def test_a_resend_with_its_h_3_and_a_new_h_14_is_not_a_second_run(sgl_server, fhir) -> None:
    """As HL7 MSH-10: an instrument that gives no result time (R.12, R.13) and resends a message, after it
    gave up waiting for our ACK, with its message control id (H.3) and a new header time (H.14) had the copy
    stored as a second run 30 s later. Without a result time the run is the message (H.3)."""
    tube = await new_tube(fhir)
    text = (f"H|\\^&|M-{tube.accession}||BIO1^5.2|||||OpenSGL||P|LIS2-A2|20261126101500\r"
            f"P|1||PAT-8||MARTIN^CLAIRE\rO|1|{tube.accession}||^^^GLU|R\rR|1|^^^GLU|1.07|g/L|0.70-1.10|N||F\rL|1|N\r")
    await send(sgl_server, text)
    await send(sgl_server, text.replace("|20261126101500\r", "|20261126101530\r"))
    [glucose] = await observations(fhir, tube)
    assert glucose["valueQuantity"]["value"] == 1.07


async def test_a_training_message_is_refused_and_stores_nothing(sgl_server, sgl_db, fhir) -> None:
    """As HL7 MSH-11: an analyzer in service mode sends H.12 = T (training) on a real tube; it was ACKed and stored
    as the patient's result. Now NAKed (ASTM has no AR), journaled ``rejected`` with the reason."""
    tube = await new_tube(fhir)
    text = (f"H|\\^&|TRAIN-{tube.accession}||BIO1^5.2|||||OpenSGL||T|LIS2-A2|20261126101500\r"
            f"P|1||PAT-9||MARTIN^CLAIRE\rO|1|{tube.accession}||^^^GLU|R\r"
            "R|1|^^^GLU|1.07|g/L|0.70-1.10|N||F||||20261126101200\rL|1|N\r")
    with pytest.raises(AstmLinkError):  # NAKed at every retry of the final frame
        await send_message("127.0.0.1", sgl_server.astm_port, text, timeouts=Timeouts(max_retries=1))
    assert await observations(fhir, tube) == []
    entry = await sgl_db.db[COLLECTION].find_one({"control_id": f"TRAIN-{tube.accession}", "status": "rejected"})
    assert entry is not None and "H.12 T (training)" in entry["detail"]
