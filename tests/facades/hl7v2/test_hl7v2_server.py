"""MLLP server on real 127.0.0.1 sockets: fragments, pipelining, NACKs, ordering, durability, stop."""

import asyncio
import logging

import pytest

from facades.hl7v2.errors import ErrorLocation, Hl7ParseError
from facades.hl7v2.message import Hl7Message
from facades.hl7v2.mllp import MllpDecoder, encode_frame
from facades.hl7v2.parser import parse
from facades.hl7v2.server import AckDecision, InboundMessage, MllpServer, start_mllp_server
from tests.facades.hl7v2.hl7v2_samples import adt
from tests.support.waits import caplog_with

TIMEOUT = 5.0


class Recorder:
    """A handler that records what it was given, in order."""

    def __init__(self) -> None:
        self.seen: list[InboundMessage] = []

    async def __call__(self, inbound: InboundMessage) -> AckDecision:
        self.seen.append(inbound)
        return AckDecision.accept()

    @property
    def control_ids(self) -> list[str]:
        return [i.message.control_id for i in self.seen]


class Peer:
    """A raw TCP sender that reads ACK frames with its own decoder."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.decoder = MllpDecoder()
        self.acks: list[Hl7Message] = []

    @classmethod
    async def connect(cls, server: MllpServer) -> "Peer":
        return cls(*await asyncio.open_connection("127.0.0.1", server.port))

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_acks(self, count: int, timeout: float = TIMEOUT) -> list[Hl7Message]:
        async def fill() -> None:
            while len(self.acks) < count:
                chunk = await self.reader.read(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.acks += [parse(f) for f in self.decoder.feed(chunk) if isinstance(f, bytes)]
        await asyncio.wait_for(fill(), timeout)
        return self.acks[:count]

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def msa(ack: Hl7Message) -> tuple[str, str]:
    seg = ack.segment("MSA")
    assert seg is not None
    return seg.get(1), seg.get(2)


async def test_frame_sent_one_byte_at_a_time_is_acknowledged() -> None:
    handler = Recorder()
    async with await start_mllp_server(handler, port=0) as server:
        peer = await Peer.connect(server)
        for byte in encode_frame(adt("SPLIT1")):
            await peer.send(bytes([byte]))
        (ack,) = await peer.read_acks(1)
        await peer.close()
    assert msa(ack) == ("AA", "SPLIT1")
    assert handler.seen[0].raw == adt("SPLIT1")


async def test_back_to_back_messages_in_one_send_are_all_acknowledged_in_order() -> None:
    handler = Recorder()
    ids = [f"B{i}" for i in range(5)]
    async with await start_mllp_server(handler, port=0) as server:
        peer = await Peer.connect(server)
        await peer.send(b"".join(encode_frame(adt(i)) for i in ids))
        acks = await peer.read_acks(5)
        await peer.close()
    assert [msa(a) for a in acks] == [("AA", i) for i in ids]
    assert handler.control_ids == ids


async def test_an_acknowledgment_reaches_the_handler_and_is_not_answered() -> None:
    """HL7 v2 does not acknowledge acknowledgments: the ACK is handed over (to be journaled) and the first answer
    on the connection is the next message's."""
    handler = Recorder()
    ack = b"MSH|^~\\&|DPI|CHU-X|SGL|LABO|20261126081510||ACK^A01^ACK|K1|P|2.5\rMSA|AA|SGL-42\r"
    async with await start_mllp_server(handler, port=0) as server:
        peer = await Peer.connect(server)
        await peer.send(encode_frame(ack) + encode_frame(adt("B9")))
        [answer] = await peer.read_acks(1)
        await peer.close()
    assert msa(answer) == ("AA", "B9") and handler.control_ids == ["K1", "B9"]
    assert server.unanswered == 1 and server.acks["AA"] == 1


async def test_garbage_between_frames_is_ignored() -> None:
    handler = Recorder()
    async with await start_mllp_server(handler, port=0) as server:
        peer = await Peer.connect(server)
        await peer.send(b"junk\x00" + encode_frame(adt("G1")) + b"more junk" + encode_frame(adt("G2")))
        acks = await peer.read_acks(2)
        await peer.close()
    assert [msa(a) for a in acks] == [("AA", "G1"), ("AA", "G2")]


async def test_unparseable_message_gets_ar_naming_the_spot_and_the_next_one_is_accepted() -> None:
    handler = Recorder()
    bad = adt("BAD1", pid5="PAT\\F^DOMINIQUE")
    async with await start_mllp_server(handler, port=0) as server:
        peer = await Peer.connect(server)
        await peer.send(encode_frame(bad) + encode_frame(adt("GOOD2")))
        rejected, accepted = await peer.read_acks(2)
        await peer.close()
    assert msa(rejected) == ("AR", "BAD1")
    err = rejected.segment("ERR")
    assert err is not None
    assert str(err.field(2)) == "PID^1^5^1^1^1"
    assert err.get("3.1") == "102" and err.get(4) == "E" and "not terminated" in err.get(8)
    assert msa(accepted) == ("AA", "GOOD2")
    assert handler.control_ids == ["GOOD2"]


async def test_unreadable_messages_reach_the_quarantine_hook_before_their_ar() -> None:
    quarantined: list[tuple[bytes, str]] = []

    async def quarantine(raw: bytes, peer: str, reason: str) -> None:
        quarantined.append((raw, reason))

    bad = adt("BAD9", pid5="PAT\\F^DOMINIQUE")
    async with await start_mllp_server(Recorder(), port=0, on_unreadable=quarantine) as server:
        peer = await Peer.connect(server)
        await peer.send(encode_frame(bad) + encode_frame(adt("")) + encode_frame(adt("FINE")))
        acks = await peer.read_acks(3)
        await peer.close()
    assert [msa(a)[0] for a in acks] == ["AR", "AR", "AA"]
    assert [raw for raw, _ in quarantined] == [bad, adt("")]
    assert "not terminated" in quarantined[0][1]


async def test_message_without_control_id_gets_ar_required_field_missing() -> None:
    async with await start_mllp_server(Recorder(), port=0) as server:
        peer = await Peer.connect(server)
        await peer.send(encode_frame(adt("")))
        (ack,) = await peer.read_acks(1)
        await peer.close()
    err = ack.segment("ERR")
    assert msa(ack)[0] == "AR" and err is not None
    assert err.get("3.1") == "101" and str(err.field(2)) == "MSH^1^10"


async def test_handler_exception_gets_ae_with_the_reason_and_the_connection_goes_on(
        caplog: pytest.LogCaptureFixture) -> None:
    async def flaky(inbound: InboundMessage) -> AckDecision:
        if inbound.message.control_id == "BOOM":
            raise RuntimeError("database write failed")
        return AckDecision.accept()

    async with await start_mllp_server(flaky, port=0) as server:
        peer = await Peer.connect(server)
        with caplog.at_level(logging.ERROR, logger="facades.hl7v2.server"):
            await peer.send(encode_frame(adt("BOOM")) + encode_frame(adt("AFTER")))
            failed, ok = await peer.read_acks(2)
        await peer.close()
    err = failed.segment("ERR")
    assert msa(failed) == ("AE", "BOOM") and err is not None
    assert err.get("3.1") == "207" and err.get(8) == "database write failed"
    assert msa(ok) == ("AA", "AFTER")
    assert "handler failed on BOOM" in caplog.text


async def test_handler_raising_a_parse_error_is_answered_ar_with_its_code_and_location() -> None:
    async def refuse(inbound: InboundMessage) -> AckDecision:
        raise Hl7ParseError("event A01 not supported here", ErrorLocation("MSH", 1, 9, None, 2), code=201)

    async with await start_mllp_server(refuse, port=0) as server:
        peer = await Peer.connect(server)
        await peer.send(encode_frame(adt("R1")))
        (ack,) = await peer.read_acks(1)
        await peer.close()
    err = ack.segment("ERR")
    assert msa(ack) == ("AR", "R1") and err is not None
    assert err.get("3.1") == "201" and str(err.field(2)) == "MSH^1^9^^2"


async def test_ack_is_sent_only_after_the_handler_completes() -> None:
    stored = asyncio.Event()
    release = asyncio.Event()

    async def durable(inbound: InboundMessage) -> AckDecision:
        stored.set()
        await release.wait()
        return AckDecision.accept()

    async with await start_mllp_server(durable, port=0) as server:
        peer = await Peer.connect(server)
        await peer.send(encode_frame(adt("SLOW")))
        await asyncio.wait_for(stored.wait(), TIMEOUT)
        with pytest.raises(TimeoutError):
            await peer.read_acks(1, timeout=0.3)
        assert peer.acks == []
        release.set()
        (ack,) = await peer.read_acks(1)
        await peer.close()
    assert msa(ack) == ("AA", "SLOW")


async def test_next_message_waits_for_the_previous_handler() -> None:
    order: list[str] = []
    release, first_started = asyncio.Event(), asyncio.Event()

    async def slow_first(inbound: InboundMessage) -> AckDecision:
        order.append("start " + inbound.message.control_id)
        if inbound.message.control_id == "FIRST":
            first_started.set()
            await release.wait()
        order.append("end " + inbound.message.control_id)
        return AckDecision.accept()

    async with await start_mllp_server(slow_first, port=0) as server:
        peer = await Peer.connect(server)
        await peer.send(encode_frame(adt("FIRST")) + encode_frame(adt("SECOND")))
        await asyncio.wait_for(first_started.wait(), TIMEOUT)  # a pause alone may end before FIRST even started
        await asyncio.sleep(0.2)  # the time SECOND would have had to start, were it not waiting
        assert order == ["start FIRST"]
        release.set()
        acks = await peer.read_acks(2)
        await peer.close()
    assert order == ["start FIRST", "end FIRST", "start SECOND", "end SECOND"]
    assert [msa(a)[1] for a in acks] == ["FIRST", "SECOND"]


async def test_handler_timeout_gets_ae() -> None:
    async def stuck(inbound: InboundMessage) -> AckDecision:
        await asyncio.sleep(30)
        return AckDecision.accept()

    async with await start_mllp_server(stuck, port=0, handler_timeout=0.2) as server:
        peer = await Peer.connect(server)
        await peer.send(encode_frame(adt("T1")))
        (ack,) = await peer.read_acks(1)
        await peer.close()
    err = ack.segment("ERR")
    assert msa(ack) == ("AE", "T1") and err is not None and "within 0.2s" in err.get(8)


async def test_oversized_message_gets_ar_and_the_connection_goes_on() -> None:
    handler = Recorder()
    big = adt("HUGE") + b"OBX|1|ED|X||" + b"A" * 5000 + b"\r"
    async with await start_mllp_server(handler, port=0, max_message_size=2000) as server:
        peer = await Peer.connect(server)
        await peer.send(encode_frame(big) + encode_frame(adt("SMALL")))
        rejected, accepted = await peer.read_acks(2)
        await peer.close()
    err = rejected.segment("ERR")
    assert msa(rejected) == ("AR", "HUGE") and err is not None and "exceeds the maximum" in err.get(8)
    assert msa(accepted) == ("AA", "SMALL")
    assert handler.control_ids == ["SMALL"]


async def test_charset_of_the_message_is_used_for_the_ack_and_handler_gets_decoded_text() -> None:
    handler = Recorder()
    latin = adt("L1").decode().replace("UNICODE UTF-8", "8859/1")
    latin = latin.replace("DOMINIQUE^DOMINIQUE", "HÉLÈNE^HÉLÈNE")
    async with await start_mllp_server(handler, port=0) as server:
        peer = await Peer.connect(server)
        await peer.send(encode_frame(latin.encode("latin-1")))
        (ack,) = await peer.read_acks(1)
        await peer.close()
    assert msa(ack) == ("AA", "L1") and ack.charset == "8859/1"
    pid = handler.seen[0].message.segment("PID")
    assert pid is not None and pid.get("5.2") == "HÉLÈNE"


async def test_hex_escapes_are_bytes_of_the_message_s_own_character_set() -> None:
    """Found by probing with a PAM-FR sender in 8859/1: ``\\XC3A9\\`` was read as UTF-8 first (é), although HL7
    2.5 2.7.5 says the hex bytes are in the message's character set (there: Ã©). Under UTF-8, ``\\XE9\\`` (not
    UTF-8) is refused at its field rather than guessed."""
    handler = Recorder()
    latin = adt("X1").decode().replace("UNICODE UTF-8", "8859/1").replace(
        "DOMINIQUE^DOMINIQUE", "H\\XC9\\L\\XC8\\NE^A\\XC3A9\\")
    utf8 = adt("X2").decode().replace("DOMINIQUE^DOMINIQUE", "H\\XC389\\L\\XC8\\NE^B")
    async with await start_mllp_server(handler, port=0) as server:
        peer = await Peer.connect(server)
        await peer.send(encode_frame(latin.encode("latin-1")) + encode_frame(utf8.encode("utf-8")))
        accepted, rejected = await peer.read_acks(2)
        await peer.close()
    assert msa(accepted) == ("AA", "X1")
    pid = handler.seen[0].message.segment("PID")
    assert pid is not None and (pid.get("5.2"), pid.get("5.3")) == ("HÉLÈNE", "AÃ©")
    err = rejected.segment("ERR")
    assert msa(rejected) == ("AR", "X2") and err is not None
    assert (err.get("2.1"), err.get("2.3"), err.get("2.5")) == ("PID", "5", "2") and "not valid utf-8" in err.get(8)
    assert handler.control_ids == ["X1"]


async def test_stop_closes_idle_connections_and_frees_the_port() -> None:
    server = await start_mllp_server(Recorder(), port=0)
    port = server.port
    peer = await Peer.connect(server)
    await peer.send(encode_frame(adt("I1")))
    await peer.read_acks(1)
    await asyncio.wait_for(server.stop(), TIMEOUT)
    assert await asyncio.wait_for(peer.reader.read(10), TIMEOUT) == b""
    await peer.close()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_stop_lets_the_message_in_progress_finish_and_acknowledges_it() -> None:
    started = asyncio.Event()

    async def slow(inbound: InboundMessage) -> AckDecision:
        started.set()
        await asyncio.sleep(0.3)
        return AckDecision.accept()

    server = await start_mllp_server(slow, port=0)
    peer = await Peer.connect(server)
    await peer.send(encode_frame(adt("INFLIGHT")))
    await asyncio.wait_for(started.wait(), TIMEOUT)
    await asyncio.wait_for(server.stop(), TIMEOUT)
    (ack,) = await peer.read_acks(1)
    assert msa(ack) == ("AA", "INFLIGHT")
    assert server.acks["AA"] == 1
    await peer.close()


async def test_peer_disconnecting_mid_frame_does_not_disturb_other_connections(
        caplog: pytest.LogCaptureFixture) -> None:
    handler = Recorder()
    async with await start_mllp_server(handler, port=0) as server:
        broken = await Peer.connect(server)
        with caplog.at_level(logging.WARNING, logger="facades.hl7v2.server"):
            await broken.send(encode_frame(adt("CUT"))[:30])
            await broken.close()
            other = await Peer.connect(server)
            await other.send(encode_frame(adt("OTHER")))
            (ack,) = await other.read_acks(1)
            await other.close()
            await caplog_with(caplog, "unfinished frame dropped")  # logged when the server reads the cut
    assert msa(ack) == ("AA", "OTHER")
    assert handler.control_ids == ["OTHER"]


async def test_port_property_fails_before_start() -> None:
    with pytest.raises(RuntimeError, match="not listening"):
        _ = MllpServer(Recorder()).port


async def test_handler_returning_no_decision_gets_ae() -> None:
    async def forgetful(inbound: InboundMessage) -> AckDecision:
        return None  # type: ignore[return-value]

    async with await start_mllp_server(forgetful, port=0) as server:
        peer = await Peer.connect(server)
        await peer.send(encode_frame(adt("NONE1")))
        (ack,) = await peer.read_acks(1)
        await peer.close()
    err = ack.segment("ERR")
    assert msa(ack) == ("AE", "NONE1") and err is not None and "instead of an AckDecision" in err.get(8)


async def test_failure_while_building_the_ack_costs_an_ae_not_the_connection(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import facades.hl7v2.server as server_module

    real_build_ack = server_module.build_ack
    calls = {"n": 0}

    def broken_once(*args: object, **kwargs: object) -> Hl7Message:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("bug while building the ACK")
        return real_build_ack(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(server_module, "build_ack", broken_once)
    async with await start_mllp_server(Recorder(), port=0) as server:
        peer = await Peer.connect(server)
        await peer.send(encode_frame(adt("BUG1")) + encode_frame(adt("OK2")))
        first, second = await peer.read_acks(2)
        await peer.close()
    assert msa(first) == ("AE", "BUG1") and msa(second) == ("AA", "OK2")


async def test_stop_cancels_a_handler_still_busy_after_the_grace_period(caplog: pytest.LogCaptureFixture) -> None:
    started = asyncio.Event()

    async def stuck(inbound: InboundMessage) -> AckDecision:
        started.set()
        await asyncio.sleep(30)
        return AckDecision.accept()

    server = await start_mllp_server(stuck, port=0, stop_grace=0.2)
    peer = await Peer.connect(server)
    await peer.send(encode_frame(adt("STUCK")))
    await asyncio.wait_for(started.wait(), TIMEOUT)
    with caplog.at_level(logging.ERROR, logger="facades.hl7v2.server"):
        await asyncio.wait_for(server.stop(), TIMEOUT)
    assert await asyncio.wait_for(peer.reader.read(100), TIMEOUT) == b""
    assert "still busy after 0.2s: cancelled" in caplog.text
    await peer.close()
