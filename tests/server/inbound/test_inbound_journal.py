"""Inbound HL7 over the real MLLP listener of ``sgl serve``: journal first, then ACK."""

from __future__ import annotations

import pytest

from facades.hl7v2 import MllpClient, NackReceived, encode_frame
from server.inbound.journal import COLLECTION
from tests.support.analyzer_lab import new_tube, search, seed_catalog

pytestmark = pytest.mark.db



def siu(control_id: str) -> str:
    return ("MSH|^~\\&|AGENDA|CHU|SGL|LABO|20240306111154||SIU^S12^SIU_S12|" + control_id + "|P|2.5|||||FRA|8859/1\r"
            "SCH|1||||||||||||||||||||||||\r")


async def test_unsupported_message_type_is_journaled_and_rejected_with_code_200(sgl_server, sgl_db) -> None:
    client = MllpClient("127.0.0.1", sgl_server.mllp_port)
    try:
        with pytest.raises(NackReceived) as nack:
            await client.send(siu("SIU-1"))
    finally:
        await client.close()
    ack = nack.value.ack
    assert ack.segment("MSA").get(1) == "AR" and ack.segment("MSA").get(2) == "SIU-1"
    assert ack.segment("ERR").get("3.1") == "200"
    entry = await sgl_db.db[COLLECTION].find_one({"control_id": "SIU-1"})
    assert entry is not None and entry["status"] == "rejected" and entry["raw"].startswith(b"MSH|")
    assert "SIU^S12" in entry["detail"]


async def test_unreadable_bytes_are_quarantined_before_the_ar(sgl_server, sgl_db) -> None:
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", sgl_server.mllp_port)
    garbage = b"this is not an HL7 message\r"
    writer.write(encode_frame(garbage))
    await writer.drain()
    answer = await asyncio.wait_for(reader.readuntil(b"\x1c\x0d"), 10)
    writer.close()
    await writer.wait_closed()
    assert b"MSA|AR" in answer
    entry = await sgl_db.db[COLLECTION].find_one({"raw": garbage})
    assert entry is not None and entry["status"] == "quarantined" and entry["detail"]


async def test_a_training_or_debugging_message_is_refused_with_code_202_and_stores_nothing(sgl_server, sgl_db,
                                                                                         fhir) -> None:
    """Found by probing the MLLP listener: an analyzer in service mode (MSH-11 T, training) and a test interface
    (D, debugging) sent results on a real tube; both were answered AA and stored as the patient's preliminary
    results. HL7: a processing id the receiver does not accept is rejected (AR). A server in test mode takes them."""
    await seed_catalog(fhir)
    tube = await new_tube(fhir)
    for processing in ("T", "D"):
        control_id = f"{processing}-{tube.accession}"
        message = (f"MSH|^~\\&|BIO1|LABO|SGL|LABO|20261126101500+0100||ORU^R01^ORU_R01|{control_id}|{processing}|2.5\r"
                   f"OBR|1||{tube.accession}|GLY^Glycémie\r"
                   "OBX|1|NM|GLU^Glucose||1.02|g/L|0.70-1.10|N|||F|||||||BIO1|20261126101200+0100\r")
        client = MllpClient("127.0.0.1", sgl_server.mllp_port)
        try:
            with pytest.raises(NackReceived) as nack:
                await client.send(message)
        finally:
            await client.close()
        ack = nack.value.ack
        assert (ack.segment("MSA").get(1), ack.segment("MSA").get(2)) == ("AR", control_id)
        [err] = ack.segments("ERR")
        assert (err.get("2.1"), err.get("2.3"), err.get("3.1")) == ("MSH", "11", "202")
        entry = await sgl_db.db[COLLECTION].find_one({"control_id": control_id})
        assert entry is not None and entry["status"] == "rejected" and f"MSH-11 {processing}" in entry["detail"]
    assert await search(fhir, "Observation", specimen=f"Specimen/{tube.specimen_id}") == []


async def test_an_acknowledgment_is_journaled_and_not_answered_and_the_connection_goes_on(sgl_server, sgl_db) -> None:
    """Session 7's probe: an interface engine's ACK (here for an ORU the lab sent, MSA-2 its MSH-10) was answered
    AR, an ACK for an ACK, which some engines answer in turn. HL7 v2 acknowledges every message but the
    acknowledgments: it is journaled with what it acknowledges, gets no answer, and the next message on the
    same connection is answered as usual (the first answer read is that message's)."""
    import asyncio

    ack = ("MSH|^~\\&|DPI|CHU-X|OPENSGL|LABO|20261126081510+0100||ACK^R01^ACK|ACK-77812|P|2.5\r"
           "MSA|AA|SGL-ORU-4242\r")
    stranger = ack.replace("|DPI|CHU-X|", "|MIRTH|ELSEWHERE|").replace("ACK-77812", "ACK-77813")
    reader, writer = await asyncio.open_connection("127.0.0.1", sgl_server.mllp_port)
    try:
        writer.write(b"".join(encode_frame(m.encode("latin-1")) for m in (ack, stranger, siu("SIU-AFTER-ACK"))))
        await writer.drain()
        answer = await asyncio.wait_for(reader.readuntil(b"\x1c\x0d"), 30)
    finally:
        writer.close()
        await writer.wait_closed()
    assert b"MSA|AR|SIU-AFTER-ACK" in answer and b"ACK-7781" not in answer
    entry = await sgl_db.db[COLLECTION].find_one({"control_id": "ACK-77812"})
    assert entry is not None and entry["status"] == "processed" and entry["message_type"] == "ACK^R01"
    assert entry["detail"] == "acknowledgment AA of message SGL-ORU-4242: not answered"
    refused = await sgl_db.db[COLLECTION].find_one({"control_id": "ACK-77813"})  # not a partner: refused, silently
    assert refused is not None and refused["status"] == "rejected" and "not a registered partner" in refused["detail"]
