"""Transport: pipelined and fragmented frames on one connection, and malformed HL7, lose nothing."""

from __future__ import annotations

import asyncio

import pytest

from facades.hl7v2 import MllpDecoder, encode_frame, parse
from server.inbound.journal import COLLECTION
from tests.support.adt_feed import msa, new_ipp, patients
from tests.support.pam_samples import ADMISSION, adt, pid, template

pytestmark = pytest.mark.db


async def _acks(reader: asyncio.StreamReader, count: int) -> list[tuple[str, str]]:
    decoder, out = MllpDecoder(), []
    while len(out) < count:
        chunk = await asyncio.wait_for(reader.read(65536), 30)
        assert chunk, f"connection closed after {len(out)} of {count} ACKs"
        out += [msa(parse(frame)) for frame in decoder.feed(chunk)]
    return out


@pytest.mark.req("SGL.INS.55")
async def test_back_to_back_and_fragmented_messages_are_all_applied_SGL_INS_55(feed_server, feed_http,
                                                                                feed_db) -> None:
    ipps = [new_ipp() for _ in range(6)]
    ids = [f"PIPE-{n}" for n in range(6)]
    reader, writer = await asyncio.open_connection("127.0.0.1", feed_server.mllp_port)
    try:
        pairs = zip(ids[:5], ipps[:5], strict=True)
        burst = b"".join(encode_frame(adt("A28", cid, pid(ipp)).encode()) for cid, ipp in pairs)
        writer.write(burst)
        last = encode_frame(template(ADMISSION, ids[5], ipp=ipps[5]).encode())
        for start in range(0, len(last), 7):  # 7-byte fragments, flushed one by one
            writer.write(last[start:start + 7])
            await writer.drain()
        assert await _acks(reader, 6) == [("AA", cid) for cid in ids]
    finally:
        writer.close()
        await writer.wait_closed()
    for ipp in ipps:
        assert len(await patients(feed_http, ipp)) == 1, ipp
    entries = await feed_db.db[COLLECTION].find({"control_id": {"$in": ids}}).to_list()
    assert sorted(e["control_id"] for e in entries) == ids and {e["status"] for e in entries} == {"processed"}


async def test_malformed_hl7_is_answered_and_the_next_message_still_goes_through(feed_server, feed_http,
                                                                                 feed_db) -> None:
    ipp = new_ipp()
    reader, writer = await asyncio.open_connection("127.0.0.1", feed_server.mllp_port)
    try:
        broken = adt("A28", "MAL-1", pid(ipp)).replace("EVN|", "E?N|")  # not a segment id
        writer.write(encode_frame(broken.encode()) + encode_frame(adt("A28", "MAL-2", pid(ipp)).encode()))
        await writer.drain()
        assert await _acks(reader, 2) == [("AR", "MAL-1"), ("AA", "MAL-2")]
    finally:
        writer.close()
        await writer.wait_closed()
    [patient] = await patients(feed_http, ipp)
    assert patient["meta"]["versionId"] == "1"
    kept = await feed_db.db[COLLECTION].find_one({"raw": broken.encode()})
    assert kept is not None and kept["status"] == "quarantined" and kept["detail"]


async def test_the_same_new_patient_sent_on_parallel_connections_is_created_once(feed_server, feed_http) -> None:
    ipp, count = new_ipp(), 8
    connections = [await asyncio.open_connection("127.0.0.1", feed_server.mllp_port) for _ in range(count)]
    try:
        for n, (_, writer) in enumerate(connections):  # all written before any ACK is read
            writer.write(encode_frame(adt("A28", f"PAR-{n}", pid(ipp)).encode()))
        await asyncio.gather(*(writer.drain() for _, writer in connections))
        answers = await asyncio.gather(*(_acks(reader, 1) for reader, _ in connections))
    finally:
        for _, writer in connections:
            writer.close()
            await writer.wait_closed()
    assert sorted(ack for [ack] in answers) == sorted(("AA", f"PAR-{n}") for n in range(count))
    [patient] = await patients(feed_http, ipp)
    assert patient["meta"]["versionId"] == "1"
