"""A ``sgl serve`` in test mode (the ANS examples carry the INS *test* OID .4.10), its HTTP client
and its database, shared by the identity-feed tests; plus helpers to send ADT and read the ACK."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from facades.hl7v2 import Hl7Message, MllpClient, NackReceived
from server.database import Database, open_database
from server.settings import Settings
from tests.support.access import role_client
from tests.support.sgl_server import SglProcess, start_sgl

IPP_SYSTEM = "urn:oid:000897406"
_ipps = itertools.count(1)


def new_ipp() -> str:
    """An IPP no other test uses (the servers are shared)."""
    return f"9{next(_ipps):05d}"


@pytest.fixture(scope="package")
def feed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SglProcess]:
    server = start_sgl(tmp_path_factory.mktemp("feed") / "var", env={"SGL_TEST_MODE": "true"})
    yield server
    server.stop()


@pytest.fixture(scope="package")
async def feed_http(feed_server: SglProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with role_client(feed_server.base, feed_server.data_dir, "secretaire") as client:
        yield client


@pytest.fixture(scope="package")
async def feed_db(feed_server: SglProcess) -> AsyncIterator[Database]:
    database = await open_database(Settings(data_dir=feed_server.data_dir))
    yield database
    await database.close()


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
