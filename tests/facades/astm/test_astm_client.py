"""The instrument-side client: connection failures, waiting for an answer, encoding."""

from __future__ import annotations

import asyncio

import pytest

from facades.astm.client import AstmClient, send_message
from facades.astm.errors import AstmLinkError, AstmRecordError
from facades.astm.link import Timeouts
from facades.astm.model import Message
from facades.astm.server import start_astm_server
from tests.support.ports import free_port

FAST = Timeouts(reply=1.0, frame=1.0)


async def test_unreachable_host_is_a_link_error() -> None:
    with pytest.raises(AstmLinkError, match="cannot connect"):
        await send_message("127.0.0.1", free_port(), "H|\\^&\rL|1\r", timeouts=FAST)


async def test_no_answer_from_the_host_within_the_wait_is_a_link_error(host_query: str) -> None:
    async def store_only(text: str, message: Message) -> None:
        return None

    async with await start_astm_server(store_only, timeouts=FAST) as server:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(AstmLinkError, match="no message from the host within 0.3 s"):
            await send_message("127.0.0.1", server.port, host_query, expect_reply=True, reply_timeout=0.3,
                               timeouts=FAST)
        assert loop.time() - started < 2.0


async def test_accented_names_travel_in_latin1_and_are_refused_before_sending_in_ascii() -> None:
    text = "H|\\^&\rP|1||PAT1||DURAND^Hélène\rL|1|N\r"
    received: list[str] = []

    async def store(raw: str, message: Message) -> None:
        received.append(message.patients[0].name.first)

    async with await start_astm_server(store, timeouts=FAST) as server:
        await send_message("127.0.0.1", server.port, text, timeouts=FAST)
        client = await AstmClient.connect("127.0.0.1", server.port, timeouts=FAST, encoding="ascii")
        async with client:
            with pytest.raises(AstmRecordError):
                await client.send(text)
    assert received == ["Hélène"]
