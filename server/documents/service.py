"""Start-up of the document step: the write rule that records jobs, and this process's job runner + pool."""

from __future__ import annotations

import asyncio
from concurrent.futures import ProcessPoolExecutor

from facades.pdf.errors import SealConfigError
from facades.pdf.seal_config import SealConfig
from server.access.caller import system
from server.context import AppContext
from server.delivery.outbox import Outbox
from server.delivery.runner import QueueRunner
from server.delivery.service import OWNER, Runners
from server.documents.producer import DocumentProducer, document_pool, job_leases
from server.documents.profile import load_profile
from server.documents.trigger import DocumentTrigger
from server.documents.warmup import machine_cores, warm_pool
from server.settings import Settings


def install_document_trigger(ctx: AppContext, outbox: Outbox) -> None:
    """Register the rule that pins a document job in each validating transaction."""
    profile = load_profile(ctx.settings.lab_profile)
    trigger = DocumentTrigger(ctx.store, ctx.database.db, profile, outbox, ctx.catalogue)
    ctx.write_rules.add("DiagnosticReport", trigger)


def seal_config(settings: Settings, *, check: bool = True) -> SealConfig | None:
    """The CR-Bio seal (SGL.DOC.19) as configured, checked now: a certificate that cannot seal (unreadable,
    key not matching, expired, not a signing certificate) stops the start-up with the reason, rather than
    failing every report later. Unset: the PDFs are not sealed."""
    cert, key, chain = settings.crbio_seal_cert, settings.crbio_seal_key, settings.crbio_seal_chain
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise SealConfigError("SGL_CRBIO_SEAL_CERT and SGL_CRBIO_SEAL_KEY go together: set both or neither")
    config = SealConfig(cert, key, chain)
    if check:
        from facades.pdf.seal import load_seal  # pyHanko only when a seal is configured

        load_seal(config)
    return config


def start_document_step(ctx: AppContext, outbox: Outbox, runners: Runners) -> None:
    """The job runner of this process, as many jobs at once as the pool has processes."""
    settings = ctx.settings
    seal = seal_config(settings, check=False)  # checked by run_startup, before anything started
    size = settings.document_workers or machine_cores()
    pool: ProcessPoolExecutor = document_pool(settings.data_dir, size, warm=settings.document_warmup)
    ctx.document_pool = pool  # also parses imported CDA ($import-crbio) off the event loop
    if settings.document_warmup:  # every process started and warm before the first report needs it
        warming = asyncio.create_task(warm_pool(pool, size), name="document-pool-warm-up")

        def stop_warming() -> None:
            warming.cancel()

        runners.closers.append(stop_warming)  # before the pool shuts down: it would ask a closed pool
    runners.closers.append(lambda: pool.shutdown(wait=False, cancel_futures=True))
    leases = job_leases(ctx.database.db, OWNER, settings.delivery_lease)
    producer = DocumentProducer(ctx.store, ctx.database.db, ctx.write_rules.for_caller(system("documents")),
                                load_profile(ctx.settings.lab_profile), outbox, pool, leases, ctx.catalogue, seal)
    runners.add(QueueRunner("documents", leases, producer.handle, concurrency=size,
                            poll=settings.delivery_poll))
