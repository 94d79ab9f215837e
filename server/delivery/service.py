"""Start-up of the outbox: its channels, its indexes and the delivery worker of this process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from server.context import AppContext
from server.delivery.channels import configured_channels
from server.delivery.lease import Leases, process_owner
from server.delivery.outbox import COLLECTION, Outbox
from server.delivery.runner import QueueRunner
from server.delivery.worker import DeliveryWorker

OWNER = process_owner()
"""This process's lease owner id (document jobs and deliveries)."""


def outbox_for(ctx: AppContext) -> Outbox:
    return Outbox(ctx.database.db, ctx.store, configured_channels(ctx))


@dataclass
class Runners:
    """The queue runners this process started, stopped together at shutdown."""

    runners: list[QueueRunner] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)
    """Called after the runners stop (e.g. the document process pool's shutdown)."""

    def add(self, runner: QueueRunner) -> None:
        runner.start()
        self.runners.append(runner)

    async def stop(self) -> None:
        for runner in self.runners:
            await runner.stop()
        for close in self.closers:
            close()


async def start_delivery(ctx: AppContext, runners: Runners) -> Outbox:
    settings = ctx.settings
    outbox = outbox_for(ctx)
    await outbox.ensure_indexes()
    worker = DeliveryWorker(ctx.store, ctx.database.db, {c.name: c for c in outbox.channels},
                            Leases(ctx.database.db[COLLECTION], OWNER, settings.delivery_lease),
                            attempts=settings.delivery_attempts, backoff_base=settings.delivery_backoff,
                            backoff_cap=settings.delivery_backoff_max, timeout=settings.delivery_timeout)
    runners.add(QueueRunner("deliveries", worker.leases, worker.handle, concurrency=settings.delivery_concurrency,
                            poll=settings.delivery_poll, ready=worker.ready))
    return outbox
