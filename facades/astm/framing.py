"""ASTM E1381 (CLSI LIS01-A2) low-level framing: frames, checksums and the receiver state machine.

A frame is ``STX FN text ETB|ETX C1 C2 CR LF``: FN cycles 1..7, 0, 1..; C1 C2 is the sum of the
bytes from FN through ETB/ETX, modulo 256, in two upper-case hex digits. The receiver here is pure
code fed bytes in arbitrary chunks; it returns what to answer and the messages it completed.

A message is complete when an ETX frame ends with its L (terminator) record. The receiver then
holds that frame's ACK until the caller ``settle()``s it: the transport answers ACK only once the
message is durable, and NAK otherwise, so that the sender retransmits the final frame.

Damaged trailers are answered NAK at once rather than waited on: ``ETX C1 C2 LF`` (no CR) as soon as
the LF arrives; ``ETX C1 C2 CR`` followed by anything but LF as soon as that byte arrives, and, when
nothing follows (the sender waits for our answer), after ``trailer_grace`` seconds (``awaiting_lf``
tells the transport to use that short timer).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import Enum

from facades.astm.errors import AstmRecordError

log = logging.getLogger(__name__)

ENQ, ACK, NAK, EOT = b"\x05", b"\x06", b"\x15", b"\x04"
STX, ETX, ETB, CR, LF = 0x02, 0x03, 0x17, 0x0D, 0x0A
MAX_TEXT = 240
MAX_ERRORS = 6
DEFAULT_MAX_FRAME = 64 * 1024
"""Frames longer than E1381's 240 characters are accepted up to this: several instruments send a whole
message in one frame. The bound keeps a broken sender from holding memory."""
_FRAME_SPECIAL = re.compile(b"[\x02\x04\n]")  # STX, EOT, LF: the bytes that can change a frame's state
_TRAILER_END = (ETX, ETB)


def checksum(body: bytes) -> bytes:
    """The two hex digits over ``FN text ETB|ETX``."""
    return f"{sum(body) % 256:02X}".encode("ascii")


def build_frame(number: int, text: bytes, *, final: bool) -> bytes:
    """One frame carrying ``text`` (at most 240 bytes) with frame number ``number`` (taken mod 8)."""
    body = bytes([0x30 + number % 8]) + text + bytes([ETX if final else ETB])
    return bytes([STX]) + body + checksum(body) + bytes([CR, LF])


def build_frames(message: bytes, *, first_number: int = 1) -> list[bytes]:
    """Split a message into frames of at most 240 text bytes: ETB for the intermediate ones, ETX last."""
    if not message:
        raise AstmRecordError("cannot send an empty message", record_type="H", line=1)
    for index, byte in enumerate(message):
        if (byte < 0x20 and byte != CR) or byte == 0x7F:
            line = message[:index].count(b"\r") + 1
            start = message.rfind(b"\r", 0, index) + 1
            record_type = message[start:start + 1].decode("latin-1") or "?"
            raise AstmRecordError(f"control character 0x{byte:02X} cannot be sent inside a record",
                                  record_type=record_type, line=line)
    chunks = [message[i:i + MAX_TEXT] for i in range(0, len(message), MAX_TEXT)]
    last = len(chunks) - 1
    return [build_frame(first_number + i, chunk, final=i == last) for i, chunk in enumerate(chunks)]


def ends_with_terminator(text: bytes) -> bool:
    """Whether the last record of ``text`` is an L record (the message is then complete)."""
    last = text.rstrip(b"\r\n").rsplit(b"\r", 1)[-1].lstrip(b"\n")
    return last[:1] == b"L" and (len(last) == 1 or not last[1:2].isalnum())


@dataclass(frozen=True)
class Reply:
    """Bytes to send to the peer now (ACK or NAK)."""

    data: bytes


@dataclass(frozen=True)
class Completed:
    """A whole message; the receiver waits for ``settle()`` before answering its last frame."""

    text: bytes


@dataclass(frozen=True)
class Unterminated:
    """A message whose last frame was ETX but which has no L record, left when the sender ended the transfer
    (EOT, the line closed or silent). E1381 says an ETX frame ends a message, and each frame was ACKed: the
    sender takes it as delivered, so it is handed over to be kept (not dropped); nothing is answered."""

    text: bytes


@dataclass(frozen=True)
class Ended:
    """The sender sent EOT; ``discarded`` bytes of an unfinished message (no L record) were dropped."""

    discarded: int


Event = Reply | Completed | Unterminated | Ended


class _State(Enum):
    IDLE = "idle"            # neutral: waiting for ENQ
    BETWEEN = "between"      # transfer phase, waiting for STX or EOT
    FRAME = "frame"          # inside a frame
    SETTLING = "settling"    # a message was completed; its final frame awaits settle()


class Receiver:
    """E1381 receiver: feed it bytes, send back the ``Reply`` bytes, store each ``Completed`` message."""

    def __init__(self, *, max_errors: int = MAX_ERRORS, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_errors = max_errors
        self.max_frame = max_frame
        self.busy = False
        self._state = _State.IDLE
        self._expected = 1
        self._accepted_any = False
        self._ended_by_etx = False  # the last frame added to the message was an ETX frame
        self._errors = 0
        self._message = bytearray()
        self._frame = bytearray()
        self._held = bytearray()

    @property
    def awaiting_lf(self) -> bool:
        """The frame ends ``ETX|ETB C1 C2 CR``: only its LF is missing (the transport waits briefly)."""
        f = self._frame
        return self._state is _State.FRAME and len(f) >= 5 and f[-1] == CR and f[-4] in _TRAILER_END

    def _damaged_trailer(self, start: int) -> bool:
        """Bytes after ``ETX|ETB C1 C2`` other than CR, or after its CR other than LF (LF itself is
        never copied in bulk); ``start``: where the bytes just added begin, less a trailer's length."""
        f = self._frame
        end = max(f.rfind(b"\x03", start), f.rfind(b"\x17", start))
        if end < 0:
            return False
        after = len(f) - end - 1
        return after >= 4 or (after == 3 and f[end + 3] != CR)

    def trailer_timeout(self) -> list[Event]:
        """The LF of a frame ending ``C1 C2 CR`` did not come: NAK it (the sender waits for an answer)."""
        if not self.awaiting_lf:
            return []
        self._state = _State.BETWEEN
        return self._reject("frame trailer with CR but no LF")

    @property
    def receiving(self) -> bool:
        """In a transfer: the transport should time out after 30 s without a frame."""
        return self._state in (_State.BETWEEN, _State.FRAME)

    def feed(self, data: bytes) -> list[Event]:
        """Consume bytes; return the replies to send and the messages completed, in order."""
        events: list[Event] = []
        index, end = 0, len(data)
        while index < end:
            if self._state is _State.SETTLING:
                self._held += data[index:]
                break
            if self._state is _State.FRAME:  # copy the frame's plain bytes in bulk, up to a special one
                match = _FRAME_SPECIAL.search(data, index)
                stop = match.start() if match else end
                start = max(len(self._frame) - 4, 0)
                self._frame += data[index:stop]
                index = stop
                if self._damaged_trailer(start):
                    self._state = _State.BETWEEN
                    events += self._reject("frame trailer damaged: C1 C2 not followed by CR LF")
                    continue
                if len(self._frame) > self.max_frame:
                    self._state = _State.BETWEEN
                    self._frame.clear()
                    events += self._reject(f"frame longer than {self.max_frame} bytes without ETX/ETB")
                    continue
                if index == end:
                    break
            events += self._byte(data[index])
            index += 1
        return events

    def settle(self, accepted: bool) -> list[Event]:
        """Answer the final frame of the completed message: ACK if it was stored, NAK if not."""
        if self._state is not _State.SETTLING:
            raise RuntimeError("settle() called with no completed message waiting")
        self._state = _State.BETWEEN
        if accepted:
            self._advance()
            self._message.clear()
            events: list[Event] = [Reply(ACK)]
        else:
            events = self._reject("the completed message was not stored")
        held, self._held = bytes(self._held), bytearray()
        return events + self.feed(held)

    def expire(self) -> list[Event]:
        """No frame for too long (E1381: 30 s), or the line closed: back to neutral; an unfinished message is
        dropped, unless it ended with an ETX frame (``Unterminated``: the sender was told it arrived)."""
        if not self.receiving:
            return []
        kept = self._unterminated()
        if self._message:
            log.warning("ASTM receive timeout: dropping %d bytes of an unfinished message", len(self._message))
        self._reset()
        return kept

    def _unterminated(self) -> list[Event]:
        if not (self._message and self._ended_by_etx):
            return []
        text = bytes(self._message)
        self._message.clear()
        log.warning("ASTM transfer ended after an ETX frame with no L record: the %d bytes are kept", len(text))
        return [Unterminated(text)]

    def _reset(self) -> None:
        self._state = _State.IDLE
        self._message.clear()
        self._frame.clear()
        self._ended_by_etx = False

    def _byte(self, byte: int) -> list[Event]:
        if self._state is _State.IDLE:
            return self._idle(byte)
        if self._state is _State.BETWEEN:
            return self._between(byte)
        return self._in_frame(byte)

    def _idle(self, byte: int) -> list[Event]:
        if byte != ENQ[0]:
            return []  # line noise, or the tail of a transfer we gave up on
        if self.busy:
            log.info("ASTM ENQ refused: busy")
            return [Reply(NAK)]
        self._start_transfer()
        return [Reply(ACK)]

    def _start_transfer(self) -> None:
        self._state = _State.BETWEEN
        self._expected, self._accepted_any, self._errors = 1, False, 0
        self._message.clear()
        self._ended_by_etx = False

    def _between(self, byte: int) -> list[Event]:
        if byte == STX:
            self._state = _State.FRAME
            self._frame.clear()
        elif byte == EOT[0]:
            kept = self._unterminated()
            discarded = len(self._message)
            if discarded:
                log.warning("ASTM EOT before the L record: %d unfinished message bytes dropped", discarded)
            self._reset()
            return [*kept, Ended(discarded)]
        elif byte == ENQ[0]:
            log.warning("ASTM ENQ in the middle of a transfer: the sender restarted, starting over")
            kept = self._unterminated()
            self._start_transfer()
            return [*kept, Reply(ACK)]
        return []

    def _in_frame(self, byte: int) -> list[Event]:
        if byte == STX:
            self._frame.clear()  # the sender restarted the frame
            return []
        if byte == EOT[0]:
            self._state = _State.BETWEEN
            return self._between(byte)
        self._frame.append(byte)
        if byte == LF and len(self._frame) >= 6 and self._frame[-5] in _TRAILER_END:
            self._state = _State.BETWEEN
            return self._frame_done(bytes(self._frame))
        if byte == LF and len(self._frame) >= 5 and self._frame[-4] in _TRAILER_END:
            self._state = _State.BETWEEN
            return self._reject("frame trailer with LF but no CR")
        if len(self._frame) > self.max_frame:
            self._state = _State.BETWEEN
            self._frame.clear()
            return self._reject(f"frame longer than {self.max_frame} bytes without ETX/ETB")
        return []

    def _frame_done(self, frame: bytes) -> list[Event]:
        body, check, trailer = frame[:-4], frame[-4:-2], frame[-2:]
        number = body[0] - 0x30
        if trailer != b"\r\n" or not 0 <= number <= 7:
            return self._reject("malformed frame")
        if check.upper() != checksum(body):
            return self._reject(f"checksum {check!r}, expected {checksum(body)!r}")
        if number == (self._expected - 1) % 8 and self._accepted_any:
            log.info("ASTM frame %d repeated (our ACK was lost): acknowledged, not duplicated", number)
            return [Reply(ACK)]
        if number != self._expected:
            return self._reject(f"frame number {number}, expected {self._expected}")
        text = body[1:-1]
        if body[-1] == ETX and not text.endswith(b"\r"):
            text += b"\r"  # a sender putting one record per frame may leave out the record's CR
        if body[-1] == ETX and ends_with_terminator(bytes(self._message) + text):
            self._state = _State.SETTLING  # the text joins the message only if settle() accepts it
            return [Completed(bytes(self._message) + text)]
        self._message += text
        self._ended_by_etx = body[-1] == ETX
        self._advance()
        return [Reply(ACK)]

    def _advance(self) -> None:
        self._expected = (self._expected + 1) % 8
        self._accepted_any = True
        self._errors = 0

    def _reject(self, reason: str) -> list[Event]:
        self._errors += 1
        log.warning("ASTM frame refused (NAK %d/%d): %s", self._errors, self.max_errors, reason)
        if self._errors >= self.max_errors:
            log.warning("ASTM too many errors: transfer abandoned")
            self._reset()
        return [Reply(NAK)]
