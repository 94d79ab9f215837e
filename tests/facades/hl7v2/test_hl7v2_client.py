"""MLLP client against our server and against misbehaving peers, on 127.0.0.1."""

import asyncio
from pathlib import Path

import pytest

from facades.hl7v2.ack import build_ack
from facades.hl7v2.client import MllpClient, send
from facades.hl7v2.errors import MllpUnavailable, NackReceived, UnsupportedMessage
from facades.hl7v2.mllp import MllpDecoder, encode_frame
from facades.hl7v2.parser import parse
from facades.hl7v2.server import AckDecision, InboundMessage, start_mllp_server
from resources.errors import InvalidInput, Unavailable
from tests.facades.hl7v2.hl7v2_samples import adt
from tests.support.pki import client_context, create_test_pki, server_context
from tests.support.ports import free_port

TIMEOUT = 5.0


async def test_send_returns_the_parsed_ack() -> None:
    async def accept(inbound: InboundMessage) -> AckDecision:
        return AckDecision.accept()

    async with await start_mllp_server(accept, port=0) as server:
        ack = await send("127.0.0.1", server.port, adt("C1"))
    msa = ack.segment("MSA")
    assert msa is not None and msa.get(1) == "AA" and msa.get(2) == "C1"


async def test_one_client_reuses_its_connection_for_several_messages() -> None:
    connections: list[int] = []

    async def accept(inbound: InboundMessage) -> AckDecision:
        connections.append(inbound.connection_id)
        return AckDecision.accept()

    async with (
        await start_mllp_server(accept, port=0) as server,
        MllpClient("127.0.0.1", server.port) as client,
    ):
        for i in range(5):
            ack = await client.send(parse(adt(f"R{i}")))
            assert ack.segment("MSA").get(2) == f"R{i}"  # type: ignore[union-attr]
    assert len(connections) == 5 and len(set(connections)) == 1


async def test_nack_raises_with_the_peer_reason_and_the_ack() -> None:
    async def refuse(inbound: InboundMessage) -> AckDecision:
        raise UnsupportedMessage("unknown patient", code=201)

    async with (
        await start_mllp_server(refuse, port=0) as server,
        MllpClient("127.0.0.1", server.port) as client,
    ):
        with pytest.raises(NackReceived) as info:
            await client.send(adt("N1").decode())
    assert isinstance(info.value, InvalidInput)
    assert "answered AR to message N1: unknown patient" in info.value.diagnostics
    assert info.value.acknowledgment_code == "AR"


async def test_connection_refused_raises_unavailable() -> None:
    with pytest.raises(MllpUnavailable) as info:
        await send("127.0.0.1", free_port(), adt("X1"), connect_timeout=2)
    assert isinstance(info.value, Unavailable) and "cannot connect" in info.value.diagnostics


async def _raw_server(respond):  # type: ignore[no-untyped-def]
    """A bare TCP peer: ``respond(frame) -> bytes | None`` decides what goes back."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = MllpDecoder()
        try:
            while chunk := await reader.read(65536):
                for frame in decoder.feed(chunk):
                    answer = respond(frame)
                    if answer is None:
                        continue
                    if answer == b"CLOSE":
                        return
                    writer.write(answer)
                    await writer.drain()
        finally:
            writer.close()
    return await asyncio.start_server(serve, "127.0.0.1", 0)


async def test_silent_peer_raises_unavailable_after_the_read_timeout() -> None:
    server = await _raw_server(lambda frame: None)
    port = server.sockets[0].getsockname()[1]
    try:
        client = MllpClient("127.0.0.1", port, read_timeout=0.3)
        with pytest.raises(MllpUnavailable, match="no ACK .* within 0.3s"):
            await client.send(adt("S1"))
        assert not client.connected
    finally:
        server.close()
        await server.wait_closed()


async def test_peer_closing_before_the_ack_raises_unavailable() -> None:
    server = await _raw_server(lambda frame: b"CLOSE")
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(MllpUnavailable, match="failed while sending"):
            await send("127.0.0.1", port, adt("S2"))
    finally:
        server.close()
        await server.wait_closed()


async def test_ack_for_another_message_drops_the_connection() -> None:
    other_ack = encode_frame(build_ack(parse(adt("OTHER")), "AA").to_er7().encode())
    server = await _raw_server(lambda frame: other_ack)
    port = server.sockets[0].getsockname()[1]
    try:
        client = MllpClient("127.0.0.1", port)
        with pytest.raises(MllpUnavailable, match="acknowledged 'OTHER' instead of 'MINE'"):
            await client.send(adt("MINE"))
        assert not client.connected
    finally:
        server.close()
        await server.wait_closed()


async def test_client_reconnects_when_the_peer_closed_the_idle_connection() -> None:
    opened: list[int] = []

    def answer_then_close(frame: bytes) -> bytes:
        opened.append(1)
        return encode_frame(build_ack(parse(frame), "AA").to_er7().encode())

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = MllpDecoder()
        while not (frames := decoder.feed(await reader.read(65536))):
            pass
        writer.write(answer_then_close(frames[0]))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with MllpClient("127.0.0.1", port) as client:
            await client.send(adt("K1"))
            await asyncio.sleep(0.1)
            ack = await asyncio.wait_for(client.send(adt("K2")), TIMEOUT)
        assert ack.segment("MSA").get(2) == "K2"  # type: ignore[union-attr]
        assert len(opened) == 2
    finally:
        server.close()
        await server.wait_closed()


async def test_mllp_over_mutual_tls(tmp_path: Path) -> None:
    pki = create_test_pki(tmp_path)

    async def accept(inbound: InboundMessage) -> AckDecision:
        return AckDecision.accept()

    async with await start_mllp_server(accept, port=0, ssl_context=server_context(pki)) as server:
        ack = await send("127.0.0.1", server.port, adt("TLS1"), ssl_context=client_context(pki))
        assert ack.segment("MSA").get(2) == "TLS1"  # type: ignore[union-attr]
        with pytest.raises(MllpUnavailable):
            await send("127.0.0.1", server.port, adt("TLS2"), read_timeout=2,
                       ssl_context=client_context(pki, with_certificate=False))


async def test_tls_server_with_an_untrusted_certificate_is_unavailable(tmp_path: Path) -> None:
    pki, other = create_test_pki(tmp_path / "a"), create_test_pki(tmp_path / "b")

    async def accept(inbound: InboundMessage) -> AckDecision:
        return AckDecision.accept()

    async with await start_mllp_server(accept, port=0, ssl_context=server_context(pki)) as server:
        with pytest.raises(MllpUnavailable, match="cannot connect"):
            await send("127.0.0.1", server.port, adt("TLS3"), ssl_context=client_context(other))


async def test_unreadable_ack_raises_unavailable_and_drops_the_connection() -> None:
    server = await _raw_server(lambda frame: encode_frame(b"this is not HL7"))
    port = server.sockets[0].getsockname()[1]
    try:
        client = MllpClient("127.0.0.1", port)
        with pytest.raises(MllpUnavailable, match="unreadable ACK .* for message U1"):
            await client.send(adt("U1"))
        assert not client.connected
    finally:
        server.close()
        await server.wait_closed()


async def test_unparseable_outbound_message_is_refused_before_sending() -> None:
    client = MllpClient("127.0.0.1", free_port())
    with pytest.raises(InvalidInput, match="must start with an MSH"):
        await client.send(b"PID|1")
    assert not client.connected
