"""Loopback ports for the servers the tests start as child processes (``sgl serve``, simulators, responders).

Why not just the port the kernel gives for port 0: such a port is free only until the probe socket closes, and
the child binds it seconds later (``sgl serve`` opens its listeners after its database and app are up: 5-20 s
on an idle machine, a minute under load). Meanwhile the kernel may hand that very port to whoever asks for port
0 next: the other pytest-xdist worker's probes, its in-process servers, the embedded database of its servers.
The child then fails to bind (``[Errno 98] address already in use``), or a test's "closed" port answers. And a
port freed by a stopped server often came back for the next server of the same worker (a cache keyed by address
then mixed two servers up, see ``tests/support/access.py``).

So the ports come from below the kernel's ephemeral range (``ip_local_port_range``, which it never hands out for
port 0 or an outgoing connection), each xdist worker from a slice of its own, walked in order from a random
start (two runs on one machine do not walk in step) and checked free when chosen: the other worker never chooses
them, and this worker does not choose one again until it has gone round its whole slice (thousands of ports; a
run uses about a thousand). ``start_sgl`` still retries on another set if a foreign process took one.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from pathlib import Path

LOWEST = 10_000
"""Below it sit the ports services commonly use; above it, up to the ephemeral range, the tests' own."""
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
MIN_SLICE = 500
"""A worker's slice smaller than this (an odd ``ip_local_port_range``): ports from the kernel (port 0) instead."""


def _ephemeral_low() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default; elsewhere only a guess, and each port is checked free anyway


def worker_slice(worker: str | None, workers: str | None, low: int, high: int) -> range | None:
    """The ports of xdist worker ``worker`` (``gw0``, ``gw1``...) of ``workers``, in ``[low, high)``; the whole
    range outside xdist; None when the slice would be too small."""
    index, count = 0, 1
    if worker and worker.startswith("gw") and worker[2:].isdigit():
        index, count = int(worker[2:]), max(int(workers or "1"), int(worker[2:]) + 1)
    size = (high - low) // count
    if size < MIN_SLICE:
        return None
    return range(low + index * size, low + (index + 1) * size)


class PortPicker:
    """Walks a slice from a random start, one port after another, skipping those bound at the time."""

    def __init__(self, ports: range | None) -> None:
        self.ports = ports
        # from the system, not the random module: a seeded generator (pytest-randomly, a test's seed) would start
        # two processes at the same place
        self.next = random.SystemRandom().randrange(len(ports)) if ports else 0
        self.lock = threading.Lock()

    def pick(self, count: int) -> tuple[int, ...]:
        if self.ports is None:
            return _kernel_ports(count)
        chosen: list[int] = []
        with self.lock:
            for _ in range(len(self.ports)):
                port = self.ports[self.next % len(self.ports)]
                self.next += 1
                if _bindable(port):
                    chosen.append(port)
                    if len(chosen) == count:
                        return tuple(chosen)
        raise OSError(f"no {count} free loopback ports in {self.ports}")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _kernel_ports(count: int) -> tuple[int, ...]:
    """``count`` distinct ports from the kernel: all probes stay bound until every port is chosen, since asking
    one at a time may get the same port twice (it happened: MLLP and ASTM on one port)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return tuple(int(s.getsockname()[1]) for s in sockets)
    finally:
        for s in sockets:
            s.close()


_PICKER = PortPicker(worker_slice(os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("PYTEST_XDIST_WORKER_COUNT"),
                                  LOWEST, _ephemeral_low()))


def free_ports(count: int) -> tuple[int, ...]:
    """``count`` distinct free loopback ports, none of which this process or the other workers of the run choose
    again soon nor the kernel hands out meanwhile (see the module docstring)."""
    return _PICKER.pick(count)


def free_port() -> int:
    return free_ports(1)[0]
