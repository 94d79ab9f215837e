"""Work done once the database is open and before requests are served (seed data, migrations).

Each step is idempotent: it checks what is already stored, so a restart does nothing new.
"""

from __future__ import annotations

from server.catalog.seed import run_seed
from server.context import AppContext
from server.documents.kit_check import check_cda_kit
from server.documents.trigger import install_document_trigger


async def run_startup(ctx: AppContext) -> None:
    """Every start-up step, in order."""
    await run_seed(ctx)
    check_cda_kit(ctx.settings.data_dir)
    install_document_trigger(ctx)
