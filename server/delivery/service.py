"""Start-up of the outbox: its channels, its indexes and the delivery worker of this process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from server.context import AppContext
from server.delivery.channels import configured_channels
from server.delivery.dmp_channel import lab_identity
from server.delivery.facts import Site
from server.delivery.lease import Leases, process_owner
from server.delivery.outbox import COLLECTION, Outbox
from server.delivery.runner import QueueRunner
from server.delivery.worker import DeliveryWorker
from server.settings import Settings

log = logging.getLogger(__name__)

OWNER = process_owner()
"""This process's lease owner id (document jobs and deliveries)."""


def lab_site(settings: Settings) -> Site:
    """The lab as the dashboards count it (FINESS, name), from its profile."""
    return Site.from_profile(lab_identity(settings.lab_profile))


def outbox_for(ctx: AppContext) -> Outbox:
    return Outbox(ctx.database.db, ctx.store, configured_channels(ctx), lab_site(ctx.settings))


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


def lease_seconds(settings: Settings) -> float:
    """The lease, never shorter than a send may take (else the same process could take an item in flight)."""
    if settings.delivery_lease <= settings.delivery_timeout:
        log.warning("SGL_DELIVERY_LEASE (%g s) must exceed SGL_DELIVERY_TIMEOUT (%g s): using %g s",
                    settings.delivery_lease, settings.delivery_timeout, settings.delivery_timeout * 2)
        return settings.delivery_timeout * 2
    return settings.delivery_lease


async def start_delivery(ctx: AppContext, runners: Runners) -> Outbox:
    settings = ctx.settings
    outbox = outbox_for(ctx)
    await outbox.ensure_indexes()
    worker = DeliveryWorker(ctx.store, ctx.database.db, {c.name: c for c in outbox.channels},
                            Leases(ctx.database.db[COLLECTION], OWNER, lease_seconds(settings)),
                            attempts=settings.delivery_attempts, backoff_base=settings.delivery_backoff,
                            backoff_cap=settings.delivery_backoff_max, timeout=settings.delivery_timeout)
    runners.add(QueueRunner("deliveries", worker.leases, worker.handle, concurrency=settings.delivery_concurrency,
                            poll=settings.delivery_poll, ready=worker.ready))
    return outbox
