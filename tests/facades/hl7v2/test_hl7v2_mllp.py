"""MLLP decoder fed byte chunks directly: fragments, pipelining, garbage, size limit."""

import logging

import pytest

from facades.hl7v2.errors import FrameTooLarge
from facades.hl7v2.mllp import MllpDecoder, encode_frame
from tests.facades.hl7v2.hl7v2_samples import adt

ONE = adt("A1")
TWO = adt("A2")


def test_frame_fed_one_byte_at_a_time_is_reassembled() -> None:
    decoder = MllpDecoder()
    out: list[bytes | FrameTooLarge] = []
    for byte in encode_frame(ONE):
        out += decoder.feed(bytes([byte]))
    assert out == [ONE]
    assert decoder.pending == 0 and not decoder.in_frame


def test_back_to_back_frames_in_one_chunk_all_come_out_in_order() -> None:
    decoder = MllpDecoder()
    assert decoder.feed(encode_frame(ONE) + encode_frame(TWO) + encode_frame(ONE)) == [ONE, TWO, ONE]


def test_frames_split_across_chunk_boundaries_anywhere() -> None:
    stream = encode_frame(ONE) + encode_frame(TWO)
    for cut in range(1, len(stream)):
        decoder = MllpDecoder()
        assert decoder.feed(stream[:cut]) + decoder.feed(stream[cut:]) == [ONE, TWO], cut


def test_end_block_split_from_its_carriage_return() -> None:
    decoder = MllpDecoder()
    frame = encode_frame(ONE)
    assert decoder.feed(frame[:-1]) == [ONE]
    assert decoder.feed(frame[-1:] + encode_frame(TWO)) == [TWO]


def test_bytes_outside_frames_are_discarded_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    decoder = MllpDecoder()
    with caplog.at_level(logging.WARNING, logger="facades.hl7v2.mllp"):
        out = decoder.feed(b"garbage" + encode_frame(ONE) + b"\r\nnoise!" + encode_frame(TWO))
    assert out == [ONE, TWO]
    assert decoder.discarded == len(b"garbage") + len(b"\r\nnoise!")
    assert "discarded 7 bytes" in caplog.text


def test_start_block_inside_a_frame_drops_the_unterminated_part() -> None:
    decoder = MllpDecoder()
    assert decoder.feed(b"\x0bhalf a message" + encode_frame(ONE)) == [ONE]


def test_end_block_without_carriage_return_is_accepted() -> None:
    decoder = MllpDecoder()
    assert decoder.feed(b"\x0b" + ONE + b"\x1c" + encode_frame(TWO)) == [ONE, TWO]


def test_oversized_frame_is_reported_in_order_and_the_next_frame_still_decodes() -> None:
    decoder = MllpDecoder(max_size=len(ONE) + 10)
    big = ONE + b"X" * 100
    out = decoder.feed(encode_frame(ONE) + encode_frame(big)[:50])
    out += decoder.feed(encode_frame(big)[50:] + encode_frame(TWO))
    assert out[0] == ONE and out[2] == TWO
    error = out[1]
    assert isinstance(error, FrameTooLarge)
    assert error.size == len(big) and error.limit == len(ONE) + 10
    assert error.head.startswith(b"MSH|") and "exceeds the maximum" in error.diagnostics
    assert decoder.pending == 0


def test_oversized_frame_memory_stays_bounded() -> None:
    decoder = MllpDecoder(max_size=100)
    decoder.feed(b"\x0b" + b"Y" * 50_000)
    assert decoder.pending <= 4096


def test_unfinished_frame_is_pending() -> None:
    decoder = MllpDecoder()
    assert decoder.feed(encode_frame(ONE)[:20]) == []
    assert decoder.pending == 19 and decoder.in_frame


def test_encoder_wraps_and_refuses_block_characters() -> None:
    assert encode_frame(b"MSH|x") == b"\x0bMSH|x\x1c\r"
    with pytest.raises(ValueError, match="block characters"):
        encode_frame(b"MSH|\x1c")
