"""Open the database the settings name: production MongoDB, or the embedded default."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from resources.store.mongo import MongoFhirStore
from server.embedded import EmbeddedDatabase, open_embedded
from server.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Database:
    client: AsyncMongoClient[Any]
    db: AsyncDatabase[Any]
    store: MongoFhirStore
    embedded: EmbeddedDatabase | None

    async def close(self) -> None:
        await self.client.close()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)


async def open_database(settings: Settings) -> Database:
    embedded = None
    uri = settings.mongodb_uri
    if not uri:
        embedded = await asyncio.to_thread(open_embedded, settings.data_dir)
        uri = embedded.uri
    client: AsyncMongoClient[Any] = AsyncMongoClient(uri, tz_aware=False, serverSelectionTimeoutMS=10_000)
    db = client[settings.database]
    store = MongoFhirStore(db)
    await store.ensure_indexes()
    log.info("FHIR store ready on %s", "embedded SecantusDB" if embedded else "MongoDB")
    return Database(client, db, store, embedded)
