"""One writer at a time per IPP, across the MLLP connections of this process.

Each connection is already handled in order; two connections (two GAM interfaces, a resend while
the first copy is still being written) may still carry messages for the same patient. Without
this, both could find no Patient for a new IPP and create two: a duplicate identity. The store has
no unique index on identifiers, so the feed serialises per IPP with a fixed set of striped locks
(no per-patient bookkeeping to clean up). A merge or change of identifier takes both IPPs' stripes,
in a fixed order so that two such messages cannot wait on each other.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from facades.hl7v2.pam import IdentityChange

STRIPES = 64


class IppLocks:
    def __init__(self, stripes: int = STRIPES) -> None:
        self._locks = [asyncio.Lock() for _ in range(stripes)]

    def _stripe(self, key: str) -> int:
        return zlib.crc32(key.encode()) % len(self._locks)

    @asynccontextmanager
    async def holding(self, change: IdentityChange) -> AsyncIterator[None]:
        """Hold the stripes of the change's IPP (and of MRG-1's) while the change is written."""
        keys = [change.ipp.query()] + ([change.prior_ipp.query()] if change.prior_ipp else [])
        async with AsyncExitStack() as stack:
            for stripe in sorted({self._stripe(k) for k in keys}):
                await stack.enter_async_context(self._locks[stripe])
            yield
