"""MTOM/XOP framing (multipart/related) of SOAP 1.2 messages, both ways.

The client sends ITI-41 as ``multipart/related; type="application/xop+xml"`` with the SOAP envelope
as the root part and each document as a binary part referenced by ``xop:Include href="cid:..."``;
the DMP (and our simulator) may answer the same way. :func:`split` reads such a body back, refusing a
truncated one (no closing delimiter) rather than guessing, and also accepts a plain SOAP body.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from urllib.parse import unquote

from lxml import etree

from facades.dmp import codes


class MtomUnreadable(ValueError):
    """The body is not a complete multipart/related message, or a ``cid:`` reference is missing."""


@dataclass(frozen=True)
class Message:
    """A SOAP message: the envelope bytes and the binary parts by Content-ID (without angle brackets)."""

    envelope: bytes
    parts: dict[str, bytes]


@dataclass(frozen=True)
class Encoded:
    content_type: str
    body: bytes


def include(parent: etree._Element, cid: str) -> None:
    """Put ``<xop:Include href="cid:...">`` under ``parent``."""
    etree.SubElement(parent, f"{{{codes.XOP}}}Include", href=f"cid:{cid}", nsmap={"xop": codes.XOP})


def encode(envelope: bytes, parts: dict[str, tuple[str, bytes]], action: str) -> Encoded:
    """The multipart body: ``parts`` maps a Content-ID to (content type, bytes)."""
    boundary = f"MIMEBoundary_{uuid.uuid4().hex}"
    root = f"root.message.{uuid.uuid4().hex}@opensgl"
    chunks = [
        f"--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"; "
        f"action=\"{action}\"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <{root}>\r\n\r\n".encode("ascii"),
        envelope,
    ]
    for cid, (content_type, content) in parts.items():
        chunks.append(f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
                      f"Content-ID: <{cid}>\r\n\r\n".encode("ascii"))
        chunks.append(content)
    chunks.append(f"\r\n--{boundary}--\r\n".encode("ascii"))
    content_type = (f'multipart/related; boundary="{boundary}"; type="application/xop+xml"; start="<{root}>"; '
                    f'start-info="application/soap+xml"; action="{action}"')
    return Encoded(content_type, b"".join(chunks))


def _param(content_type: str, name: str) -> str | None:
    found = re.search(rf'(?:^|;)\s*{name}\s*=\s*(?:"([^"]*)"|([^;\s]+))', content_type, re.IGNORECASE)
    return None if found is None else (found.group(1) if found.group(1) is not None else found.group(2))


def _headers(block: bytes) -> dict[str, str]:
    out = {}
    for line in block.decode("latin-1").split("\r\n"):
        if ":" in line:
            name, value = line.split(":", 1)
            out[name.strip().lower()] = value.strip()
    return out


def split(content_type: str, body: bytes) -> Message:
    """Read a multipart/related (or plain SOAP) body; :class:`MtomUnreadable` says what is wrong."""
    if not content_type.lower().startswith("multipart/related"):
        return Message(body, {})
    boundary = _param(content_type, "boundary")
    if not boundary:
        raise MtomUnreadable("multipart/related without a boundary parameter")
    delimiter = b"--" + boundary.encode("latin-1")
    if delimiter + b"--" not in body:
        raise MtomUnreadable("the multipart body is truncated (no closing boundary)")
    sections = body.split(delimiter)[1:-1]  # before the first: preamble; after the last: "--" epilogue
    parts: dict[str, bytes] = {}
    first: bytes | None = None
    for section in sections:
        section = section[2:] if section.startswith(b"\r\n") else section
        head, sep, content = section.partition(b"\r\n\r\n")
        if not sep:
            raise MtomUnreadable("a MIME part has no header/body separator")
        content = content[:-2] if content.endswith(b"\r\n") else content
        cid = _headers(head).get("content-id", "").strip("<>")
        parts[cid] = content
        first = content if first is None else first
    start = (_param(content_type, "start") or "").strip("<>")
    if start:
        if start not in parts:
            raise MtomUnreadable(f"the root part <{start}> named by start= is missing")
        root = parts.pop(start)
    elif first is not None:
        root = first
        parts = {k: v for k, v in parts.items() if v is not first}
    else:
        raise MtomUnreadable("the multipart body has no part")
    return Message(root, parts)


def resolve(element: etree._Element, parts: dict[str, bytes]) -> bytes:
    """The bytes of an element holding ``xop:Include`` (or inline base64 text)."""
    found = element.find(f"{{{codes.XOP}}}Include")
    if found is None:
        return base64.b64decode((element.text or "").strip())
    href = found.get("href", "")
    cid = href[4:] if href.startswith("cid:") else href
    cid = unquote(cid)
    if cid not in parts:
        raise MtomUnreadable(f"xop:Include {href} names no MIME part")
    return parts[cid]
