"""MLLP framing (HL7 Minimal Lower Layer Protocol): ``<VT> message <FS><CR>``.

``MllpDecoder`` is fed whatever byte chunks the socket delivers and returns the complete messages,
so a frame split across many reads and several frames in one read come out the same. Bytes outside
a frame are discarded and logged; a frame longer than ``max_size`` is skipped up to its end and
reported as a ``FrameTooLarge`` item in the output, in order, so the caller can NACK it and go on.
Pure code: no sockets, no asyncio.
"""

from __future__ import annotations

import logging

from facades.hl7v2.errors import FrameTooLarge

log = logging.getLogger(__name__)

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c"
CARRIAGE_RETURN = b"\r"
DEFAULT_MAX_SIZE = 16 * 1024 * 1024
HEAD_KEPT = 4096  # bytes of an oversized frame kept to read its MSH for the NACK


def encode_frame(message: bytes) -> bytes:
    """Wrap one message in an MLLP frame; the block characters may not appear inside."""
    if START_BLOCK in message or END_BLOCK in message:
        raise ValueError("an HL7 message may not contain the MLLP block characters 0x0B or 0x1C")
    return START_BLOCK + message + END_BLOCK + CARRIAGE_RETURN


class MllpDecoder:
    """Incremental MLLP decoder; one instance per connection."""

    def __init__(self, max_size: int = DEFAULT_MAX_SIZE) -> None:
        if max_size < 1:
            raise ValueError("max_size must be positive")
        self.max_size = max_size
        self._buffer = bytearray()
        self._in_frame = False
        self._oversized = 0  # size so far of the frame being skipped, 0 when not skipping
        self._expect_cr = False
        self.discarded = 0  # bytes seen outside any frame since the decoder was created

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame held in memory."""
        return len(self._buffer)

    @property
    def in_frame(self) -> bool:
        return self._in_frame

    def feed(self, data: bytes) -> list[bytes | FrameTooLarge]:
        """Consume a chunk; return the messages (and oversized-frame errors) it completes, in order."""
        out: list[bytes | FrameTooLarge] = []
        view = memoryview(data)
        pos = 0
        while pos < len(view):
            if self._expect_cr:
                self._expect_cr = False
                if view[pos] == CARRIAGE_RETURN[0]:
                    pos += 1
                    continue
                log.warning("MLLP frame ended with 0x1C not followed by CR; accepted")
            if not self._in_frame:
                pos = self._skip_to_start(data, pos)
                continue
            pos = self._read_frame(data, pos, out)
        return out

    def _skip_to_start(self, data: bytes, pos: int) -> int:
        start = data.find(START_BLOCK, pos)
        end = len(data) if start < 0 else start
        garbage = data[pos:end]
        if garbage.strip(b"\r\n"):
            self.discarded += len(garbage)
            log.warning("discarded %d bytes outside an MLLP frame: %r", len(garbage), garbage[:40])
        if start < 0:
            return len(data)
        self._in_frame = True
        return start + 1

    def _read_frame(self, data: bytes, pos: int, out: list[bytes | FrameTooLarge]) -> int:
        end = data.find(END_BLOCK, pos)
        restart = data.find(START_BLOCK, pos, len(data) if end < 0 else end)
        if restart >= 0:
            log.warning("MLLP start block inside a frame: dropping %d unterminated bytes",
                        self.pending + restart - pos)
            self._buffer.clear()
            self._oversized = 0
            return restart + 1
        stop = len(data) if end < 0 else end
        self._append(data[pos:stop])
        if end < 0:
            return len(data)
        if self._oversized:
            out.append(FrameTooLarge(self._oversized, self.max_size, bytes(self._buffer)))
            log.error("MLLP frame of %d bytes exceeds the maximum of %d; skipped",
                      self._oversized, self.max_size)
        else:
            out.append(bytes(self._buffer))
        self._buffer.clear()
        self._oversized = 0
        self._in_frame = False
        self._expect_cr = True
        return end + 1

    def _append(self, chunk: bytes) -> None:
        if self._oversized:
            self._oversized += len(chunk)
            return
        if len(self._buffer) + len(chunk) <= self.max_size:
            self._buffer += chunk
            return
        self._oversized = len(self._buffer) + len(chunk)
        self._buffer += chunk[:max(0, HEAD_KEPT - len(self._buffer))]
        del self._buffer[HEAD_KEPT:]
