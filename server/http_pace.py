"""How long an HTTP client may take to send a request: the clock of one connection, without sockets.

uvicorn bounds only the wait between two requests of a kept-alive connection (5 s, after a response). A
connection that sent nothing, or sent its head or body a byte at a time, was kept for ever (found by probing
a real ``sgl serve``: a silent connection and a head trickled a byte per second were both still open after
20 s, and 600 of them were all held). Many such connections hold the server's file descriptors without any
request ever reaching the application (slowloris).

The rule, in the manner of Apache's ``mod_reqtimeout``:

* the request line and headers must be complete within ``head_timeout`` seconds of the connection being
  opened or, on a kept-alive connection, of the next request's first byte (the wait between two requests
  stays uvicorn's keep-alive timeout, 5 s: a second timer there closed idle connections that a client was
  just reusing, which it saw as a dropped request);
* the body may take ``body_timeout`` seconds plus one second per ``body_min_rate`` bytes received, so a
  client sending steadily at more than that rate is never cut, whatever the size, and one trickling is;
* while the server itself does not read (the application has not consumed what came: flow control), the
  body's clock starts again when reading resumes, since the client is not the one waiting.

The connection protocol (``server/http_protocol.py``) asks ``deadline`` and closes the connection when it
has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class HttpPace:
    """The limits (settings ``SGL_HTTP_HEAD_TIMEOUT``, ``SGL_HTTP_BODY_TIMEOUT``, ``SGL_HTTP_BODY_MIN_RATE``)."""

    head_timeout: float = 30.0
    body_timeout: float = 60.0
    body_min_rate: float = 1024.0

    def __post_init__(self) -> None:
        if self.head_timeout <= 0 or self.body_timeout <= 0 or self.body_min_rate <= 0:
            raise ValueError("HTTP head and body timeouts and the body's minimum rate must be positive")


class Phase(Enum):
    HEAD = "request head"
    BODY = "request body"
    SERVED = "served"
    """The request is read: the application and the response take the time they need (event streams too)."""


class PaceClock:
    """The phase of the request being received on one connection and since when; times are the loop's."""

    def __init__(self, pace: HttpPace, now: float) -> None:
        self.pace = pace
        self.phase = Phase.HEAD
        self.started: float | None = now
        self.head_bytes = 0
        """Bytes received since the head has been awaited (0: the client sent nothing, it is only closed)."""
        self.body_bytes = 0

    def waiting_for_head(self, now: float | None) -> None:
        """A connection opened (``now``: its head is awaited from then), or a response ended (None: the clock
        starts at the next request's first byte; until then the keep-alive timeout applies)."""
        self.phase, self.started, self.head_bytes, self.body_bytes = Phase.HEAD, now, 0, 0

    def received(self, now: float, size: int, *, reading_body: bool, head_done: bool) -> None:
        """``size`` bytes came; ``reading_body``: the request's body is still expected after them;
        ``head_done``: the head is complete (with or without a body to come)."""
        if self.phase is Phase.HEAD:
            if self.started is None and size:
                self.started = now
            self.head_bytes += size
        if self.phase is Phase.HEAD and reading_body:
            self.phase, self.started, self.body_bytes = Phase.BODY, now, 0
        elif self.phase is Phase.BODY:
            self.body_bytes += size
        if head_done and not reading_body:
            self.phase = Phase.SERVED

    def server_not_reading(self, now: float) -> None:
        """Reading is paused because the application is behind: the body's clock starts again."""
        if self.phase is Phase.BODY:
            self.started, self.body_bytes = now, 0

    def deadline(self) -> float | None:
        """When the phase must be over (None: no limit)."""
        if self.started is None:
            return None
        if self.phase is Phase.HEAD:
            return self.started + self.pace.head_timeout
        if self.phase is Phase.BODY:
            return self.started + self.pace.body_timeout + self.body_bytes / self.pace.body_min_rate
        return None
