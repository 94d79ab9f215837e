"""Talking to the identity feed as a hospital identity repository does: ADT over MLLP on one connection
(``exchange``), the ACK read back (``msa``, ``errs``), the Patients an IPP landed in (``patients``)."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from facades.hl7v2 import Hl7Message, MllpClient, NackReceived

IPP_SYSTEM = "urn:oid:000897406"
_ipps = itertools.count(1)


def new_ipp() -> str:
    """An IPP no other test uses (the servers are shared)."""
    return f"9{next(_ipps):05d}"


async def exchange(port: int, *messages: str) -> list[Hl7Message]:
    """Send each message on one connection and return every ACK, positive or not."""
    acks: list[Hl7Message] = []
    async with MllpClient("127.0.0.1", port, read_timeout=30) as client:
        for message in messages:
            try:
                acks.append(await client.send(message))
            except NackReceived as nack:
                acks.append(nack.ack)
    return acks


async def patients(http: httpx.AsyncClient, ipp: str) -> list[dict[str, Any]]:
    """The Patients holding an IPP, over the FHIR API."""
    response = await http.get("Patient", params={"identifier": f"{IPP_SYSTEM}|{ipp}"})
    assert response.status_code == 200, response.text
    return [e["resource"] for e in response.json().get("entry", []) if e["search"]["mode"] == "match"]


def msa(ack: Hl7Message) -> tuple[str, str]:
    segment = ack.segment("MSA")
    assert segment is not None
    return segment.get(1), segment.get(2)


def errs(ack: Hl7Message) -> list[tuple[str, str, str, str]]:
    """(ERR-2 location, ERR-3 code, ERR-4 severity, ERR-8 text) of each ERR."""
    return [(str(e.field(2)), e.get("3.1"), e.get(4), e.get(8)) for e in ack.segments("ERR")]
