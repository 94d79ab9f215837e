"""What every workflow and inbound handler needs, built once at start-up."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import timedelta

from resources.store.mongo import MongoFhirStore
from server.database import Database
from server.inbound.astm_dispatch import AstmDispatcher
from server.inbound.hl7_dispatch import Hl7Dispatcher
from server.inbound.journal import InboundJournal
from server.inbound.processing import accepted
from server.partners.gate import PartnerGate
from server.partners.registry import PartnerRegistry
from server.settings import Settings
from server.stored_catalog import CatalogRepository
from server.write_rules import WriteRules


@dataclass
class AppContext:
    settings: Settings
    database: Database
    journal: InboundJournal
    hl7: Hl7Dispatcher
    astm: AstmDispatcher
    write_rules: WriteRules
    partners: PartnerRegistry
    catalogue: CatalogRepository
    """The analysis catalogue as every per-message / per-result workflow reads it (one cached copy)."""
    document_pool: Executor | None = None
    """The process pool of CPU-bound document work (rendering, XSLT, big CDA parsing), once the document step
    has started (``server/documents/service.py``); None before."""

    @property
    def store(self) -> MongoFhirStore:
        return self.database.store

    @classmethod
    async def build(cls, settings: Settings, database: Database, write_rules: WriteRules) -> AppContext:
        journal = InboundJournal(database.db, stale=timedelta(seconds=settings.journal_replay_grace))
        await journal.ensure_indexes()
        partners = PartnerRegistry(database.db)
        await partners.ensure_indexes()
        gate = PartnerGate(partners, database.store)
        processed = accepted(settings.test_mode)
        return cls(settings, database, journal, Hl7Dispatcher(journal, gate, processed),
                   AstmDispatcher(journal, gate, processed),
                   write_rules, partners, CatalogRepository(database.store))
