"""HL7 v2 analyzer results over the real MLLP listener of ``sgl serve``: stored, matched, ACKed after commit."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from facades.hl7v2 import Hl7Message, MllpClient, NackReceived, encode_frame, parse
from server.analyzers import EXT_INSTRUMENT_RESULT
from server.analyzers.incoming import IncomingResult
from server.analyzers.ingest import ResultIngest
from server.analyzers.matching import Matcher
from server.stored_catalog import CatalogRepository
from server.write_rules import WriteRules
from terminology import EXT_INSTRUMENT
from terminology.loinc import LOINC_SYSTEM
from terminology.ucum import UCUM_SYSTEM
from tests.support.analyzer_lab import Tube, coding, new_tube, search

pytestmark = pytest.mark.db
CATALOG = "https://opensgl.org/fhir/CodeSystem/catalogue"


def oru(accession: str, *obx: str, control_id: str | None = None) -> str:
    return ("MSH|^~\\&|BIO1|LABO|SGL|LABO|20261126101500+0100||ORU^R01^ORU_R01|"
            f"{control_id or uuid.uuid4().hex[:12]}|P|2.5|||||FRA|UNICODE UTF-8\r"
            f"OBR|1||{accession}|GLY^Glycémie\r" + "".join(s + "\r" for s in obx))


def glu(value: str = "1.02", run: str = "20261126101200+0100", code: str = "GLU") -> str:
    return f"OBX|1|NM|{code}^Glucose||{value}|g/L|0.70-1.10|H|||F|||||||BIO1|{run}"


async def observations(fhir: httpx.AsyncClient, tube: Tube) -> list[dict]:
    return await search(fhir, "Observation", specimen=f"Specimen/{tube.specimen_id}")


async def placeholder_for(fhir: httpx.AsyncClient, first: dict, **extra: object) -> tuple[dict, dict]:
    """What ``$rerun`` writes for a measured result: a registered Observation of the same order, analysis,
    patient and tube, waiting for its new value. Returns the body posted and the stored placeholder."""
    waiting = {key: first[key] for key in ("basedOn", "category", "code", "subject", "specimen")}
    waiting.update(resourceType="Observation", status="registered", **extra)
    return waiting, (await fhir.post("Observation", json=waiting)).json()


async def test_oru_r01_result_becomes_a_matched_preliminary_observation(mllp, fhir) -> None:
    tube = await new_tube(fhir, ("GLY",))
    ack = await mllp.send(oru(tube.accession, glu()))
    assert ack.segment("MSA").get(1) == "AA"
    [obs] = await observations(fhir, tube)
    assert obs["status"] == "preliminary"
    assert coding(obs, CATALOG) == "GLU" and coding(obs, LOINC_SYSTEM) == "2345-7"
    assert obs["valueQuantity"] == {"value": 1.02, "unit": "g/L", "system": UCUM_SYSTEM, "code": "g/L"}
    assert obs["specimen"]["reference"] == f"Specimen/{tube.specimen_id}"
    assert obs["basedOn"] == [{"reference": f"ServiceRequest/{tube.requests['GLY']}"}]
    assert obs["subject"]["reference"] == f"Patient/{tube.patient_id}"
    assert obs["device"]["reference"].startswith("Device/")
    assert obs["effectiveDateTime"] == "2026-11-26T08:30:00+01:00"
    instrument = {e["url"]: e for e in obs["extension"]}[EXT_INSTRUMENT_RESULT]["extension"]
    assert {"url": "flag", "valueString": "H"} in instrument
    assert {"url": "runTime", "valueDateTime": "2026-11-26T10:12:00+01:00"} in instrument


async def test_oul_r22_results_of_two_tubes_are_matched_to_their_own_orders(mllp, fhir) -> None:
    creat, iono = await new_tube(fhir, ("CREAT",)), await new_tube(fhir, ("IONO",))
    message = ("MSH|^~\\&|LAS|LABO|SGL|LABO|20261126101500||OUL^R22^OUL_R22|" + uuid.uuid4().hex[:12] + "|P|2.5.1\r"
               f"SPM|1|{creat.accession}||SER\rOBR|1||O-1|CREAT\r"
               "OBX|1|NM|CREA^Créatinine||75|umol/L|||||F|||||||BIO1|20261126101100\r"
               f"SPM|2|{iono.accession}||SER\rOBR|1||O-2|IONO\r"
               "OBX|1|NM|NA^Sodium||140|mmol/L|||||F|||||||BIO1|20261126101100\r"
               "OBX|2|NM|K^Potassium||4.1|mmol/L|||||F|||||||BIO1|20261126101100\r")
    ack = await mllp.send(message)
    assert ack.segment("MSA").get(1) == "AA"
    [crea] = await observations(fhir, creat)
    assert coding(crea, CATALOG) == "CREA" and crea["valueQuantity"]["code"] == "umol/L"
    assert crea["valueQuantity"]["unit"] == "µmol/L"
    assert crea["basedOn"] == [{"reference": f"ServiceRequest/{creat.requests['CREAT']}"}]
    ions = await observations(fhir, iono)
    assert sorted(coding(o, CATALOG) for o in ions) == ["K", "NA"]
    assert all(o["basedOn"] == [{"reference": f"ServiceRequest/{iono.requests['IONO']}"}] for o in ions)
    assert all(o["subject"]["reference"] == f"Patient/{iono.patient_id}" for o in ions)


async def test_resent_message_creates_no_duplicate(mllp, fhir) -> None:
    tube = await new_tube(fhir)
    text = oru(tube.accession, glu(), control_id="RESEND-" + tube.accession)
    for _ in range(2):  # an analyzer resending after a lost ACK
        assert (await mllp.send(text)).segment("MSA").get(1) == "AA"
    assert (await mllp.send(oru(tube.accession, glu()))).segment("MSA").get(1) == "AA"  # new control id, same run
    assert len(await observations(fhir, tube)) == 1


async def test_a_resend_with_its_msh_10_and_a_new_msh_7_is_not_a_second_run(mllp, fhir) -> None:
    """Found by probing the MLLP listener: a middleware (v2.3.1, no OBX-14, OBX-19 nor OBR-7) resending after a
    lost ACK keeps MSH-10 and stamps MSH-7 anew; both copies were answered AA and stored, two glucose runs
    30 s apart. Without a result time the run is the message (MSH-10), not the header's time."""
    tube = await new_tube(fhir)
    message = ("MSH|^~\\&|BIO1|LABO|SGL|LABO|20261126101500+0100||ORU^R01|DI-" + tube.accession + "|P|2.3.1\r"
               f"PID|1||IPP-1||MARTIN^CLAIRE\rOBR|1||{tube.accession}|GLY^Glycémie\r"
               "OBX|1|NM|GLU^Glucose||1.02|g/L|0.70-1.10|N|||F\r")
    for sent in (message, message.replace("20261126101500+0100", "20261126101530+0100")):
        ack = await mllp.send(sent)
        assert (ack.segment("MSA").get(1), ack.segment("MSA").get(2)) == ("AA", "DI-" + tube.accession)
    [glucose] = await observations(fhir, tube)
    assert glucose["valueQuantity"]["value"] == 1.02
    rerun = message.replace("DI-", "DI2-").replace("|1.02|", "|1.10|")  # the next message: another run
    assert (await mllp.send(rerun)).segment("MSA").get(1) == "AA"
    assert sorted(o["valueQuantity"]["value"] for o in await observations(fhir, tube)) == [1.02, 1.1]


async def test_rerun_with_a_later_run_time_is_kept_as_another_observation(mllp, fhir) -> None:
    tube = await new_tube(fhir)
    await mllp.send(oru(tube.accession, glu("1.90")))
    await mllp.send(oru(tube.accession, glu("1.85", run="20261126103000+0100")))
    runs = await search(fhir, "Observation", specimen=f"Specimen/{tube.specimen_id}", code=f"{CATALOG}|GLU")
    assert sorted(o["valueQuantity"]["value"] for o in runs) == [1.85, 1.9]


async def test_unknown_test_code_and_unknown_accession_end_on_the_worklist(mllp, fhir) -> None:
    tube = await new_tube(fhir)
    ghost = "NOTUBE-" + uuid.uuid4().hex[:8]
    ack = await mllp.send(oru(tube.accession, glu(code="XYZ")))
    assert ack.segment("MSA").get(1) == "AA" and ack.segment("ERR").get(4) == "W"
    await mllp.send(oru(ghost, glu()))
    tasks = await search(fhir, "Task", code="unmatched-result", status="requested")
    reasons = {}
    for task in tasks:
        inputs = {i["type"]["text"]: i["valueString"] for i in task["input"]}
        key = (inputs.get("accession", ""), inputs.get("test-code", ""))
        reasons[key] = (task["statusReason"]["coding"][0]["code"], task)
    reason, task = reasons[(tube.accession, "XYZ")]
    assert reason == "unknown-test-code" and task["for"]["reference"] == f"Patient/{tube.patient_id}"
    kept = (await fhir.get(task["focus"]["reference"])).json()
    assert kept["status"] == "preliminary" and kept["valueQuantity"]["value"] == 1.02 and "basedOn" not in kept
    assert kept["specimen"]["reference"] == f"Specimen/{tube.specimen_id}"
    reason, task = reasons[(ghost, "GLU")]
    assert reason == "unknown-accession" and ghost in task["statusReason"]["text"]
    orphan = (await fhir.get(task["focus"]["reference"])).json()
    assert coding(orphan, CATALOG) == "GLU" and "specimen" not in orphan and "subject" not in orphan


async def test_result_not_ordered_on_its_tube_goes_to_the_worklist(mllp, fhir) -> None:
    tube = await new_tube(fhir, ("GLY",))
    await mllp.send(oru(tube.accession, "OBX|1|NM|NA^Sodium||140|mmol/L|||||F|||||||BIO1|20261126101200"))
    [obs] = await observations(fhir, tube)
    [task] = await search(fhir, "Task", focus=f"Observation/{obs['id']}")
    assert task["statusReason"]["coding"][0]["code"] == "not-ordered" and "basedOn" not in obs


async def test_a_malformed_obx_is_refused_alone_with_its_location_and_the_valid_one_is_stored(mllp, fhir) -> None:
    tube = await new_tube(fhir)
    bad = oru(tube.accession, glu(), "OBX|2|NM|GLUM^Glucose||1,9|mmol/L")
    with pytest.raises(NackReceived) as nack:
        await mllp.send(bad)
    err = nack.value.ack.segment("ERR")
    assert nack.value.acknowledgment_code == "AE" and err.get("2.1") == "OBX" and err.get("2.2") == "2"
    assert err.get("2.3") == "5" and err.get("3.1") == "102" and "not a number" in err.get(8)
    [stored] = await observations(fhir, tube)
    assert stored["valueQuantity"]["value"] == 1.02
    tasks = [t for t in await search(fhir, "Task", code="unmatched-result", status="requested")
             if {"type": {"text": "accession"}, "valueString": tube.accession} in t["input"]]
    [task] = tasks
    reason = task["statusReason"]
    assert reason["coding"][0]["code"] == "invalid-result" and "not a number" in reason["text"]
    assert {"type": {"text": "received"}, "valueString": "OBX|2|NM|GLUM^Glucose||1,9|mmol/L"} in task["input"]
    with pytest.raises(NackReceived):  # the analyzer resends the same message: nothing doubles
        await mllp.send(bad)
    assert len(await observations(fhir, tube)) == 1
    assert len([t for t in await search(fhir, "Task", code="unmatched-result", status="requested")
                if {"type": {"text": "accession"}, "valueString": tube.accession} in t["input"]]) == 1


async def test_store_refusal_of_one_result_rolls_back_the_whole_message(mllp, fhir) -> None:
    tube = await new_tube(fhir)
    with pytest.raises(NackReceived) as nack:  # "A  B" is not a valid FHIR code: the second create fails
        await mllp.send(oru(tube.accession, glu(), "OBX|2|NM|A  B^Odd||1|g/L|||||F"))
    assert nack.value.acknowledgment_code == "AE" and nack.value.ack.segment("ERR").get(8)
    assert await observations(fhir, tube) == []


async def test_back_to_back_messages_in_one_write_are_each_acknowledged_and_stored(sgl_server, mllp, fhir) -> None:
    first, second = await new_tube(fhir), await new_tube(fhir)
    texts = [oru(t.accession, glu(), control_id=f"B2B-{t.accession}") for t in (first, second)]
    reader, writer = await asyncio.open_connection("127.0.0.1", sgl_server.mllp_port)
    try:
        writer.write(b"".join(encode_frame(t.encode()) for t in texts))
        await writer.drain()
        acks: list[Hl7Message] = []
        for _ in texts:
            frame = await asyncio.wait_for(reader.readuntil(b"\x1c\x0d"), 60)
            acks.append(parse(frame.strip(b"\x0b\x1c\x0d")))
    finally:
        writer.close()
        await writer.wait_closed()
    assert [(a.segment("MSA").get(1), a.segment("MSA").get(2)) for a in acks] == [
        ("AA", f"B2B-{first.accession}"), ("AA", f"B2B-{second.accession}")]
    assert len(await observations(fhir, first)) == 1 and len(await observations(fhir, second)) == 1


def _qbp(control_id: str, accession: str) -> str:
    return ("MSH|^~\\&|BIO1|LABO|SGL|LABO|20261126101500||QBP^Q11^QBP_Q11|" + control_id + "|P|2.5.1\r"
            "QPD|WOS^Work Order Step^IHE_LABTF|TAG-" + control_id + "|" + accession + "\rRCP|I\r")


async def test_hl7_host_query_is_answered_by_rsp_k11_with_the_tubes_tests(mllp, fhir) -> None:
    tube = await new_tube(fhir, ("GLY", "IONO"))
    answer = await mllp.send(_qbp("Q-1", tube.accession))
    assert answer.msh.get("9.1") == "RSP" and answer.msh.get("9.2") == "K11"
    assert answer.segment("MSA").get(1) == "AA" and answer.segment("MSA").get(2) == "Q-1"
    assert answer.segment("QAK").get(1) == "TAG-Q-1" and answer.segment("QAK").get(2) == "OK"
    assert answer.segment("SPM").get("2.1") == tube.accession
    assert [obr.get("4.1") for obr in answer.segments("OBR")] == ["GLU", "GLUM", "NA", "K", "CL", "CO2"]
    assert answer.segment("PID").get("5.1") == "MARTIN" and answer.segment("PID").get(8) == "F"


async def test_hl7_host_query_for_an_unknown_tube_says_not_found(mllp) -> None:
    answer = await mllp.send(_qbp("Q-2", "NO-SUCH-TUBE"))
    assert answer.segment("QAK").get(2) == "NF" and answer.segment("OBR") is None


async def test_analyzers_sending_at_the_same_time_all_get_aa_and_every_result_is_stored(sgl_server, mllp, fhir) -> None:
    tubes = [await new_tube(fhir, ("GLY", "IONO")) for _ in range(4)]
    ions = "".join(f"OBX|{n}|NM|{code}||{value}|mmol/L|||||F|||||||BIO1|{{run}}\r"
                   for n, (code, value) in enumerate((("NA", "140"), ("K", "4.0"), ("CL", "100"), ("CO2", "25")), 2))

    async def analyzer(tube: Tube) -> list[str]:
        client = MllpClient("127.0.0.1", sgl_server.mllp_port, read_timeout=120)
        try:
            codes = []
            for minute in range(10, 15):  # five runs of the same tube, one after the other
                run = f"2026112610{minute:02d}00+0100"
                ack = await client.send(oru(tube.accession, glu(run=run), ions.format(run=run).rstrip("\r")))
                codes.append(ack.segment("MSA").get(1))
            return codes
        finally:
            await client.close()

    answers = await asyncio.gather(*(analyzer(t) for t in tubes))
    assert answers == [["AA"] * 5] * 4
    for tube in tubes:
        assert len(await observations(fhir, tube)) == 25


async def test_rerun_asked_by_the_validation_workflow_fills_its_waiting_observation(mllp, fhir) -> None:
    tube = await new_tube(fhir)
    await mllp.send(oru(tube.accession, glu("4.90")))
    [first] = await observations(fhir, tube)
    replaces = {"url": "https://opensgl.org/fhir/StructureDefinition/replaces",
                "valueReference": {"reference": f"Observation/{first['id']}"}}
    waiting, placeholder = await placeholder_for(fhir, first, extension=[replaces],
                                                 note=[{"text": "Nouvelle mesure : dilution 1/10"}])
    await mllp.send(oru(tube.accession, glu("4.85", run="20261126110000+0100")))
    runs = await observations(fhir, tube)
    assert len(runs) == 2
    rerun = (await fhir.get(f"Observation/{placeholder['id']}")).json()
    assert rerun["status"] == "preliminary" and rerun["valueQuantity"]["value"] == 4.85
    assert replaces in rerun["extension"] and rerun["note"] == waiting["note"]
    assert rerun["identifier"][0]["value"].endswith("/202611261100000100")


async def test_a_placeholder_sent_for_on_several_connections_at_once_is_filled_once_and_no_value_lost(
        sgl_server, mllp, fhir) -> None:
    """Of four reruns sent at once on four connections one fills the placeholder, each other is kept as its
    own measurement (the ingest matches outside its transaction and fills only the version it read; the
    interleaving is whatever the server does, not forced)."""
    tube = await new_tube(fhir)
    await mllp.send(oru(tube.accession, glu("4.90")))
    [first] = await observations(fhir, tube)
    _, placeholder = await placeholder_for(fhir, first)
    values = ["4.81", "4.82", "4.83", "4.84"]

    async def analyzer(n: int) -> str:
        client = MllpClient("127.0.0.1", sgl_server.mllp_port, read_timeout=120)
        try:
            ack = await client.send(oru(tube.accession, glu(values[n], run=f"2026112611{n:02d}00+0100")))
            return str(ack.segment("MSA").get(1))
        finally:
            await client.close()

    assert await asyncio.gather(*(analyzer(n) for n in range(4))) == ["AA"] * 4
    runs = await observations(fhir, tube)
    stored = sorted(str(o["valueQuantity"]["value"]) for o in runs if o["id"] != first["id"])
    assert stored == values and len(runs) == 5
    filled = (await fhir.get(f"Observation/{placeholder['id']}")).json()
    assert filled["status"] == "preliminary" and str(filled["valueQuantity"]["value"]) in values
    assert filled["meta"]["versionId"] == "2"  # filled once, never overwritten by a second rerun


async def test_a_test_code_added_to_the_catalogue_is_matched_by_the_very_next_message(mllp, fhir) -> None:
    """The ingest reads the catalogue through the application's repository, which checks the store's count
    of catalogue writes in each message's transaction: no delay, no reload period."""
    tube = await new_tube(fhir, ("GLY",))
    ack = await mllp.send(oru(tube.accession, glu(code="GLUNEW")))  # the catalogue, as cached, lacks it
    assert ack.segment("MSA").get(1) == "AA" and ack.segment("ERR").get(4) == "W"
    original = (await fhir.get("ObservationDefinition/analysis-GLU")).json()
    original.pop("meta")
    added = {"url": EXT_INSTRUMENT, "extension": [{"url": "analyzer", "valueString": "BIO1"},
                                                  {"url": "code", "valueString": "GLUNEW"}]}
    put = await fhir.put("ObservationDefinition/analysis-GLU",
                         json={**original, "extension": [*original.get("extension", []), added]})
    assert put.status_code == 200, put.text
    try:
        again = await new_tube(fhir, ("GLY",))
        ack = await mllp.send(oru(again.accession, glu(code="GLUNEW")))
        assert ack.segment("MSA").get(1) == "AA" and ack.segment("ERR") is None, ack
        [obs] = await observations(fhir, again)
        assert coding(obs, CATALOG) == "GLU"
        assert obs["basedOn"] == [{"reference": f"ServiceRequest/{again.requests['GLY']}"}]
    finally:
        restored = await fhir.put("ObservationDefinition/analysis-GLU", json=original)
        assert restored.status_code == 200, restored.text


async def test_a_placeholder_filled_after_the_ingest_read_it_is_not_overwritten(
        sgl_db, mllp, fhir, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race of matching outside the transaction, forced: another writer fills the rerun placeholder
    between the ingest's read (outside its transaction) and its write. The stale fill is refused (a write
    conflict with the transaction's snapshot, taken at its first read, and the If-Match of the version read),
    the transaction runs again, matches inside it, and keeps the new value as its own Observation."""
    tube = await new_tube(fhir)
    await mllp.send(oru(tube.accession, glu("4.90")))
    [first] = await observations(fhir, tube)
    _, placeholder = await placeholder_for(fhir, first)
    original = Matcher.awaiting_value
    raced: list[str] = []

    async def read_then_raced(self: Matcher, specimen: dict, analysis: str) -> dict | None:
        found = await original(self, specimen, analysis)
        if found is not None and self.session is None and not raced:  # the first attempt's read, outside
            other = {**found, "valueQuantity": {"value": 4.7, "unit": "g/L"}}
            other.pop("meta")
            raced.append((await fhir.put(f"Observation/{found['id']}", json=other)).json()["meta"]["versionId"])
        return found

    monkeypatch.setattr(Matcher, "awaiting_value", read_then_raced)
    ingest = ResultIngest(sgl_db.store, WriteRules(), CatalogRepository(sgl_db.store))
    report = await ingest.ingest([IncomingResult("BIO1", tube.accession, "GLU", "4.85", "2026-11-26T11:30:00+01:00",
                                                 "test OBX[1]", units="g/L")])
    assert raced == ["2"]
    kept = (await fhir.get(f"Observation/{placeholder['id']}")).json()
    assert kept["meta"]["versionId"] == "2" and kept["valueQuantity"]["value"] == 4.7  # the other writer's fill
    [produced] = report.produced
    assert produced != f"Observation/{placeholder['id']}"
    assert (await fhir.get(produced)).json()["valueQuantity"]["value"] == 4.85


async def test_an_obx_value_keeps_its_trailing_zero(mllp, fhir) -> None:
    """OBX-5 ``1.50`` is built into the Observation in Python (this path never goes through FHIR JSON); it is
    stored and served as ``1.50``, as the analyzer sent it, not ``1.5``."""
    tube = await new_tube(fhir, ("GLY",))
    assert (await mllp.send(oru(tube.accession, glu("1.50")))).segment("MSA").get(1) == "AA"
    answer = await fhir.get("Observation", params={"specimen": f"Specimen/{tube.specimen_id}"})
    assert b'"valueQuantity":{"value":1.50,' in answer.content
