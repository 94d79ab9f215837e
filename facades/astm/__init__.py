"""ASTM facade: E1381 low-level protocol and E1394 (LIS2-A2) records over TCP.

Layers, each importing only the ones before it: ``model`` (typed records) <- ``codec`` / ``records``
(parse and build message text) <- ``framing`` (frames, checksums, receiver state machine; no asyncio)
<- ``link`` (E1381 on asyncio streams) <- ``server`` (the host) / ``client`` (an instrument).
"""

from facades.astm.client import AstmClient, send_message
from facades.astm.errors import AstmLinkError, AstmRecordError
from facades.astm.framing import Completed, Ended, Receiver, Reply, Unterminated, build_frames, checksum
from facades.astm.link import Timeouts
from facades.astm.model import (
    Comment,
    Delimiters,
    Header,
    Message,
    Order,
    OtherRecord,
    Patient,
    PersonName,
    Query,
    RefusedRecord,
    Result,
    TestId,
)
from facades.astm.records import build_message, parse_message
from facades.astm.server import AstmServer, Handler, InvalidHandler, current_peer, start_astm_server

__all__ = [
    "AstmClient",
    "AstmLinkError",
    "AstmRecordError",
    "AstmServer",
    "Comment",
    "Completed",
    "Delimiters",
    "Ended",
    "Handler",
    "Header",
    "InvalidHandler",
    "Message",
    "Order",
    "OtherRecord",
    "Patient",
    "PersonName",
    "Query",
    "Receiver",
    "RefusedRecord",
    "Reply",
    "Result",
    "TestId",
    "Timeouts",
    "Unterminated",
    "build_frames",
    "build_message",
    "checksum",
    "current_peer",
    "parse_message",
    "send_message",
    "start_astm_server",
]
