"""Probes of a server's sockets from the client side, shared by the socket-limit tests and
``bench/hostile_load.py`` (which floods a server with the same idle connections)."""

from __future__ import annotations

import asyncio
import resource
import socket


async def still_open(reader: asyncio.StreamReader, wait: float = 0.5) -> bool:
    """True when the server has neither closed nor reset the connection (nothing to read within ``wait`` s)."""
    try:
        await asyncio.wait_for(reader.read(1), wait)
        return False
    except TimeoutError:
        return True
    except ConnectionError:
        return False


def raise_fd_limit(wanted: int) -> bool:
    """Raise this process's open-file limit towards ``wanted`` (up to the hard limit); whether it got there."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= wanted


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server writes on ``sock`` until it closes or resets the connection."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data
