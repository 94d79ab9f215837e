"""HL7 v2 facade core: message model and parser, MLLP framing, server and client, ACKs, outbound PID.

Layers point one way: ``location``/``escape`` <- ``message`` <- ``errors`` <- ``parser`` <- ``ack``/``pid``
<- ``outcome`` (the one exception -> AA/AE/AR table) <- ``mllp`` <- ``server``/``client``; only the last
two use asyncio. Other packages import the names below and nothing else.
"""

from facades.hl7v2.ack import AckCode, AckError, build_ack, build_ack_for_unreadable, new_control_id
from facades.hl7v2.client import MllpClient, send
from facades.hl7v2.errors import (
    FrameTooLarge,
    Hl7ContentError,
    Hl7ParseError,
    MllpUnavailable,
    NackReceived,
    UnsupportedMessage,
)
from facades.hl7v2.escape import DEFAULT_ENCODING, EncodingChars, EscapeError
from facades.hl7v2.escape import decode as unescape
from facades.hl7v2.escape import encode as escape
from facades.hl7v2.location import ErrorLocation
from facades.hl7v2.message import Field, Hl7Message, Segment
from facades.hl7v2.mllp import DEFAULT_MAX_SIZE, MllpDecoder, encode_frame
from facades.hl7v2.outcome import AckDecision, PartlyProcessed, ack_error, at, decide
from facades.hl7v2.parser import check_header, parse
from facades.hl7v2.pid import PAM_FR_RELIABILITY, AssigningAuthority, build_pid
from facades.hl7v2.server import Handler, InboundMessage, MllpServer, UnreadableHook, start_mllp_server
from facades.hl7v2.timestamps import from_fhir as hl7_datetime_from_fhir
from facades.hl7v2.timestamps import hl7_timestamp

__all__ = [
    "DEFAULT_ENCODING",
    "DEFAULT_MAX_SIZE",
    "PAM_FR_RELIABILITY",
    "AckCode",
    "AckDecision",
    "AckError",
    "AssigningAuthority",
    "EncodingChars",
    "ErrorLocation",
    "EscapeError",
    "Field",
    "FrameTooLarge",
    "Handler",
    "Hl7ContentError",
    "Hl7Message",
    "Hl7ParseError",
    "InboundMessage",
    "MllpClient",
    "MllpDecoder",
    "MllpServer",
    "MllpUnavailable",
    "NackReceived",
    "PartlyProcessed",
    "Segment",
    "UnreadableHook",
    "UnsupportedMessage",
    "ack_error",
    "at",
    "build_ack",
    "build_ack_for_unreadable",
    "build_pid",
    "check_header",
    "decide",
    "encode_frame",
    "escape",
    "hl7_datetime_from_fhir",
    "hl7_timestamp",
    "new_control_id",
    "parse",
    "send",
    "start_mllp_server",
    "unescape",
]
