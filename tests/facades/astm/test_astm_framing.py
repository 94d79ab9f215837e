"""E1381 framing: checksum, frames, and the receiver state machine fed bytes in any chunking."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from facades.astm.errors import AstmRecordError
from facades.astm.framing import (
    ACK,
    ENQ,
    EOT,
    NAK,
    Completed,
    Ended,
    Event,
    Receiver,
    Reply,
    Unterminated,
    build_frame,
    build_frames,
    checksum,
    ends_with_terminator,
)

STX, ETX, ETB = b"\x02", b"\x03", b"\x17"


def test_checksum_is_the_byte_sum_mod_256_in_upper_hex() -> None:
    # "1" 0x31 + "A" 0x41 + ETX 0x03 = 49 + 65 + 3 = 117 = 0x75
    assert checksum(b"1A\x03") == b"75"
    # "2" 50 + "zzz" 3*122 + ETB 23 = 439; 439 - 256 = 183 = 0xB7: wraps, upper-case hex
    assert checksum(b"2zzz\x17") == b"B7"
    # "1" 49 + "L|1|N\r" (76+124+49+124+78+13 = 464) + ETX 3 = 516; 516 - 512 = 4 -> two digits "04"
    assert checksum(b"1L|1|N\r\x03") == b"04"


def test_frame_layout_is_stx_number_text_terminator_checksum_cr_lf() -> None:
    assert build_frame(1, b"L|1|N\r", final=True) == b"\x021L|1|N\r\x0304\r\n"
    assert build_frame(9, b"A", final=False) == b"\x021A\x17" + checksum(b"1A\x17") + b"\r\n"


def test_thousand_character_message_is_split_into_etb_frames_of_240() -> None:
    message = b"x" * 999 + b"\r"
    frames = build_frames(message)
    assert len(frames) == 5
    assert [f[1:2] for f in frames] == [b"1", b"2", b"3", b"4", b"5"]
    assert [f[-5:-4] for f in frames] == [ETB, ETB, ETB, ETB, ETX]
    assert [len(f) - 7 for f in frames] == [240, 240, 240, 240, 40]
    assert b"".join(f[2:-5] for f in frames) == message


def test_frame_numbers_cycle_from_7_to_0() -> None:
    frames = build_frames(b"y" * 2400)
    assert [f[1] - 0x30 for f in frames] == [1, 2, 3, 4, 5, 6, 7, 0, 1, 2]


def test_control_character_in_a_record_cannot_be_framed_and_names_the_line() -> None:
    with pytest.raises(AstmRecordError) as caught:
        build_frames(b"H|\\^&\rP|1\rR|1|^^^GLU|5\x03\rL|1\r")
    assert (caught.value.record_type, caught.value.line) == ("R", 3)


def test_last_record_l_marks_the_end_of_a_message() -> None:
    assert ends_with_terminator(b"H|\\^&\rL|1|N\r")
    assert ends_with_terminator(b"H|\\^&\rL\r")
    assert not ends_with_terminator(b"H|\\^&\rP|1\r")
    assert not ends_with_terminator(b"H|\\^&\rLX|1\r")


def _session(text: str) -> bytes:
    return ENQ + b"".join(build_frames(text.encode("latin-1"))) + EOT


def _run(receiver: Receiver, data: bytes, chunk: int, accept: bool = True) -> tuple[list[bytes], list[bytes]]:
    """Feed ``data`` in chunks, settling every completed message; return (replies, messages)."""
    replies: list[bytes] = []
    messages: list[bytes] = []

    def handle(events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Reply):
                replies.append(event.data)
            elif isinstance(event, Completed):
                messages.append(event.text)
                handle(receiver.settle(accept))

    for i in range(0, len(data), chunk):
        handle(receiver.feed(data[i:i + chunk]))
    return replies, messages


@pytest.mark.parametrize("chunk", [1, 2, 7, 100, 100_000])
def test_message_is_reassembled_whatever_the_chunking(biochemistry_run: str, chunk: int) -> None:
    session = _session(biochemistry_run)
    replies, messages = _run(Receiver(), session, chunk)
    assert messages == [biochemistry_run.encode()]
    assert replies == [ACK] * (1 + len(build_frames(biochemistry_run.encode())))


@pytest.mark.parametrize("chunk", [1, 1000])
def test_long_result_message_in_etb_frames_is_reassembled(long_run: Callable[[int], str], chunk: int) -> None:
    text = long_run(12)
    assert len(text) > 1000
    assert len(build_frames(text.encode())) >= 5
    _, messages = _run(Receiver(), _session(text), chunk)
    assert messages == [text.encode()]


def test_one_record_per_frame_is_reassembled_too(biochemistry_run: str) -> None:
    records = [r + "\r" for r in biochemistry_run.split("\r") if r]
    frames = [build_frame(i, r.encode(), final=True) for i, r in enumerate(records, start=1)]
    _, messages = _run(Receiver(), ENQ + b"".join(frames) + EOT, 3)
    assert messages == [biochemistry_run.encode()]


def test_record_per_frame_without_its_cr_is_still_separated(biochemistry_run: str) -> None:
    records = [r for r in biochemistry_run.split("\r") if r]
    frames = [build_frame(i, r.encode(), final=True) for i, r in enumerate(records, start=1)]
    _, messages = _run(Receiver(), ENQ + b"".join(frames) + EOT, 50)
    assert messages == [biochemistry_run.encode()]


def test_busy_receiver_answers_enq_with_nak() -> None:
    receiver = Receiver()
    receiver.busy = True
    assert receiver.feed(ENQ) == [Reply(NAK)]
    assert not receiver.receiving
    receiver.busy = False
    assert receiver.feed(ENQ) == [Reply(ACK)]
    assert receiver.receiving


def test_garbage_outside_frames_is_ignored(biochemistry_run: str) -> None:
    frames = build_frames(biochemistry_run.encode())
    noisy = b"\x00zz\r\n" + ENQ + b"\n\xff" + frames[0] + b"noise\r\n" + b"".join(frames[1:]) + EOT
    replies, messages = _run(Receiver(), noisy, 5)
    assert messages == [biochemistry_run.encode()]
    assert NAK not in replies


def test_wrong_checksum_gets_nak_and_the_retransmitted_frame_is_accepted(biochemistry_run: str) -> None:
    text = biochemistry_run.encode()
    good = build_frames(text)
    corrupt = good[0][:-4] + (b"00" if good[0][-4:-2] != b"00" else b"01") + b"\r\n"
    receiver = Receiver()
    assert receiver.feed(ENQ) == [Reply(ACK)]
    assert receiver.feed(corrupt) == [Reply(NAK)]
    assert receiver.feed(good[0]) == [Reply(ACK)]
    replies, messages = _run(receiver, b"".join(good[1:]) + EOT, 1)
    assert messages == [text]


def test_flipped_text_byte_is_caught_by_the_checksum(biochemistry_run: str) -> None:
    frame = build_frames(biochemistry_run.encode())[0]
    damaged = frame[:10] + bytes([frame[10] ^ 0x01]) + frame[11:]
    receiver = Receiver()
    receiver.feed(ENQ)
    assert receiver.feed(damaged) == [Reply(NAK)]


def test_wrong_frame_number_gets_nak() -> None:
    receiver = Receiver()
    receiver.feed(ENQ)
    assert receiver.feed(build_frame(3, b"H|\\^&\r", final=True)) == [Reply(NAK)]
    assert receiver.feed(build_frame(1, b"H|\\^&\r", final=True)) == [Reply(ACK)]


def test_frame_repeated_after_a_lost_ack_is_acked_and_not_duplicated(biochemistry_run: str) -> None:
    frames = build_frames(biochemistry_run.encode())
    assert len(frames) >= 2
    replayed = ENQ + frames[0] + frames[0] + b"".join(frames[1:]) + EOT
    replies, messages = _run(Receiver(), replayed, 4)
    assert messages == [biochemistry_run.encode()]
    assert replies == [ACK] * (len(frames) + 2)


def test_final_frame_waits_for_settle_and_a_refusal_is_nakked_then_retried(biochemistry_run: str) -> None:
    frames = build_frames(biochemistry_run.encode())
    receiver = Receiver()
    receiver.feed(ENQ + b"".join(frames[:-1]))
    assert receiver.feed(frames[-1]) == [Completed(biochemistry_run.encode())]  # no ACK yet
    assert receiver.settle(False) == [Reply(NAK)]
    assert receiver.feed(frames[-1]) == [Completed(biochemistry_run.encode())]
    assert receiver.settle(True) == [Reply(ACK)]
    # our ACK was lost: the sender repeats the final frame; it is ACKed and not delivered twice
    assert receiver.feed(frames[-1]) == [Reply(ACK)]
    assert receiver.feed(EOT) == [Ended(0)]


def test_bytes_arriving_while_settling_are_processed_after_settle(biochemistry_run: str) -> None:
    frames = build_frames(biochemistry_run.encode())
    receiver = Receiver()
    events = receiver.feed(ENQ + b"".join(frames) + EOT)
    assert isinstance(events[-1], Completed)
    assert receiver.settle(True) == [Reply(ACK), Ended(0)]


def test_settle_without_a_completed_message_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        Receiver().settle(True)


def test_eot_after_an_etb_frame_drops_the_unfinished_message() -> None:
    """The sender gave up in the middle of a message (E1381: ETB, the message goes on in the next frame)."""
    receiver = Receiver()
    receiver.feed(ENQ)
    receiver.feed(build_frame(1, b"H|\\^&\rP|1\r", final=False))
    assert receiver.feed(EOT) == [Ended(len(b"H|\\^&\rP|1\r"))]
    assert not receiver.receiving


def test_a_message_ended_by_an_etx_frame_without_its_l_record_is_handed_over_not_dropped() -> None:
    """E1381: an ETX frame ends a message, and it was ACKed; E1394 wants an L record the sender left out.
    EOT, the 30 s timer, a closed line or the next ENQ then hand it over as ``Unterminated`` (before: dropped,
    logged)."""
    records = [b"H|\\^&\r", b"P|1\r", b"O|1|T1||^^^GLU\r", b"R|1|^^^GLU|1.07|g/L\r"]
    kept = Unterminated(b"".join(records))
    for end, events in ((EOT, [kept, Ended(0)]), (ENQ, [kept, Reply(ACK)]), (None, [kept])):
        receiver = Receiver()
        receiver.feed(ENQ)
        for number, record in enumerate(records, 1):
            assert receiver.feed(build_frame(number, record, final=True)) == [Reply(ACK)]
        assert (receiver.feed(end) if end else receiver.expire()) == events
        assert receiver.receiving == (end == ENQ)


def test_too_many_errors_abandon_the_transfer() -> None:
    receiver = Receiver(max_errors=3)
    receiver.feed(ENQ)
    bad = b"\x021H|\\^&\r\x03ZZ\r\n"
    assert receiver.feed(bad * 3) == [Reply(NAK)] * 3
    assert not receiver.receiving
    assert receiver.feed(build_frame(1, b"L|1\r", final=True)) == []  # ignored until a new ENQ


def test_timeout_resets_to_neutral_and_drops_the_partial_message(biochemistry_run: str) -> None:
    frames = build_frames(b"H|\\^&\rP|1\r") + build_frames(b"L|1\r", first_number=2)
    receiver = Receiver()
    receiver.feed(ENQ + frames[0])
    assert receiver.receiving
    receiver.expire()
    assert not receiver.receiving
    _, messages = _run(receiver, ENQ + build_frame(1, b"H|\\^&\r", final=False) + frames[1], 1)
    assert messages == [b"H|\\^&\rL|1\r"]


def test_frame_over_the_configured_maximum_is_refused() -> None:
    receiver = Receiver(max_frame=300)
    receiver.feed(ENQ)
    assert receiver.feed(STX + b"1" + b"x" * 400) == [Reply(NAK)]


def test_a_4_kb_frame_is_accepted_by_default() -> None:
    """Several instruments send a whole message in one frame, far beyond E1381's 240 characters."""
    text = b"H|\\^&\r" + b"".join(b"R|%d|^^^T%d|%d|g/L\r" % (n, n, n) for n in range(1, 260)) + b"L|1\r"
    assert len(text) > 4000
    body = b"1" + text + ETX
    frame = STX + body + checksum(body) + b"\r\n"
    receiver = Receiver()
    receiver.feed(ENQ)
    assert receiver.feed(frame) == [Completed(text)]


@pytest.mark.parametrize("trailer", [b"\n", b"\rX"], ids=["lf-without-cr", "cr-then-not-lf"])
def test_a_damaged_trailer_is_nakked_at_once(trailer: bytes) -> None:
    body = b"1H|\\^&\rL|1\r" + ETX
    receiver = Receiver()
    receiver.feed(ENQ)
    assert receiver.feed(STX + body + checksum(body) + trailer) == [Reply(NAK)]
    frame = build_frame(1, b"H|\\^&\rL|1\r", final=True)  # the sender retransmits it whole
    assert receiver.feed(frame) == [Completed(b"H|\\^&\rL|1\r")]


def test_a_trailer_missing_its_lf_is_nakked_when_the_grace_ends() -> None:
    body = b"1H|\\^&\rL|1\r" + ETX
    receiver = Receiver()
    receiver.feed(ENQ)
    assert receiver.feed(STX + body + checksum(body) + b"\r") == []
    assert receiver.awaiting_lf
    assert receiver.trailer_timeout() == [Reply(NAK)] and not receiver.awaiting_lf


def test_new_enq_in_a_transfer_restarts_it() -> None:
    receiver = Receiver()
    receiver.feed(ENQ + build_frame(1, b"H|\\^&\rP|1\r", final=False))
    assert receiver.feed(ENQ) == [Reply(ACK)]
    _, messages = _run(receiver, build_frame(1, b"H|\\^&\rL|1\r", final=True), 1)
    assert messages == [b"H|\\^&\rL|1\r"]


def test_two_messages_in_one_transfer_are_both_delivered(biochemistry_run: str, host_query: str) -> None:
    first = build_frames(biochemistry_run.encode())
    second = build_frames(host_query.encode(), first_number=len(first) + 1)
    _, messages = _run(Receiver(), ENQ + b"".join(first + second) + EOT, 9)
    assert messages == [biochemistry_run.encode(), host_query.encode()]
