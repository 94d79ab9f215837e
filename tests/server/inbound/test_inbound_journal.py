"""Inbound HL7 over the real MLLP listener of ``sgl serve``: journal first, then ACK."""

from __future__ import annotations

import pytest

from facades.hl7v2 import MllpClient, NackReceived, encode_frame
from server.inbound.journal import COLLECTION

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
