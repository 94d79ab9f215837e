"""Shared material for the ASTM tests: realistic analyzer messages and a raw-socket instrument."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.support.raw_instrument import RawInstrument

# A chemistry run as a cobas-like analyzer sends it: one patient, one serum specimen, four results.
BIOCHEMISTRY_RUN = (
    "H|\\^&|||c501^1^2.0.0^SN1234|||||||P|LIS2-A2|20261126083015\r"
    "P|1||PAT0042||MARTIN^Claire^^^Mme||19850312|F\r"
    "O|1|26112600042||^^^GLU\\^^^CREA\\^^^NA\\^^^K|R|20261126073000|20261126071500||||N||||SER||||||||||F\r"
    "R|1|^^^GLU|6.8|mmol/L|3.9 to 5.8|H||F||BIO1|20261126081000|20261126081500|c501\r"
    "R|2|^^^CREA|72|umol/L|45 to 84|N||F||BIO1|20261126081000|20261126081600|c501\r"
    "R|3|^^^NA|141|mmol/L|136 to 145|N||F||BIO1|20261126081000|20261126081700|c501\r"
    "R|4|^^^K|5.9|mmol/L|3.5 to 5.1|H||F||BIO1|20261126081000|20261126081700|c501\r"
    "C|1|I|Hemolysis index 60^HIL|I\r"
    "L|1|N\r"
)

# The analyzer asks the host for the orders of the tube it just scanned.
HOST_QUERY = (
    "H|\\^&|||c501^1^2.0.0^SN1234|||||||P|LIS2-A2|20261126083500\r"
    "Q|1|^26112600077||^^^ALL||||||||O\r"
    "L|1|N\r"
)


def _long_run(results: int) -> str:
    """A message with many R records, long enough to need several ETB frames."""
    lines = [
        "H|\\^&|||c501^1^2.0.0^SN1234|||||||P|LIS2-A2|20261126083015",
        "P|1||PAT0042||MARTIN^Claire||19850312|F",
        "O|1|26112600042||^^^PANEL|R||||||N||||SER||||||||||F",
    ]
    lines += [f"R|{i}|^^^T{i:03d}|{i}.5|mmol/L|1.0 to 9.0|N||F||BIO1|20261126081000|20261126081500|c501"
              for i in range(1, results + 1)]
    lines.append("L|1|N")
    return "\r".join(lines) + "\r"


@pytest.fixture
async def raw_instrument() -> AsyncIterator[Callable[[int], Awaitable[RawInstrument]]]:
    """Factory: ``await raw_instrument(port)`` opens a raw connection, closed after the test."""
    opened: list[RawInstrument] = []

    async def connect(port: int) -> RawInstrument:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        opened.append(RawInstrument(reader, writer))
        return opened[-1]

    yield connect
    for peer in opened:
        peer.writer.close()
        with contextlib.suppress(ConnectionError):
            await peer.writer.wait_closed()


@pytest.fixture
def biochemistry_run() -> str:
    return BIOCHEMISTRY_RUN


@pytest.fixture
def host_query() -> str:
    return HOST_QUERY


@pytest.fixture
def long_run() -> Callable[[int], str]:
    return _long_run
