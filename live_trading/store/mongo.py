"""Connecting to the store: an external MongoDB or the embedded server.

:class:`Store` owns the PyMongo async client, the database handle (which
decodes times as aware UTC datetimes) and, in embedded mode, the SecantusDB
child process. Beanie is initialised on the same database with the document
models the caller names (the composition root, :mod:`live_trading.bootstrap`):
the store knows nothing of what is stored in it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from beanie import Document, init_beanie
from bson.codec_options import CodecOptions
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from .embedded import EmbeddedServer
from .watchdog import DEFAULT_ORPHAN_GRACE_S

log = logging.getLogger("live_trading.store")

CODEC_OPTIONS: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)


@dataclass
class Store:
    client: AsyncMongoClient
    db: AsyncDatabase
    url: str
    embedded: EmbeddedServer | None = field(default=None)

    async def ping(self) -> bool:
        try:
            await self.db.command("ping")
            return True
        except Exception:  # noqa: BLE001 - health reporting must not raise
            return False

    async def abort_orphaned_transactions(self) -> bool:
        """Abort transactions left open by a killed process (their locks would
        otherwise hold until the server's transaction lifetime, 60 s, runs
        out). Only on the embedded server, which this program alone uses: on
        a shared MongoDB, killing every session could hit other clients.
        Returns True when done."""
        if self.embedded is None:
            log.info("external MongoDB: orphaned transactions expire on their own")
            return False
        await self.client.admin.command({"killAllSessions": []})
        return True

    async def close(self) -> None:
        await self.client.close()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)


async def open_store(
    mongodb_url: str | None,
    db_name: str,
    data_dir: Path,
    *,
    document_models: Sequence[type[Document]],
    sync_on_commit: bool = True,
    orphan_grace_s: float = DEFAULT_ORPHAN_GRACE_S,
) -> Store:
    """Connect to ``mongodb_url``, or start/reuse the embedded server
    (``orphan_grace_s``: see :class:`~live_trading.store.embedded.EmbeddedServer`),
    and initialise Beanie with ``document_models`` (the application's:
    :data:`live_trading.bootstrap.DOCUMENT_MODELS`).

    Raises:
        EmbeddedServerError: the embedded server could not be started.
        pymongo.errors.ServerSelectionTimeoutError: the store did not answer.
    """
    embedded = None
    url = mongodb_url
    if not url:
        embedded = EmbeddedServer(
            data_dir, sync_on_commit=sync_on_commit, orphan_grace_s=orphan_grace_s
        )
        url = await asyncio.to_thread(embedded.start)
    client: AsyncMongoClient = AsyncMongoClient(
        url, tz_aware=True, tzinfo=UTC, serverSelectionTimeoutMS=20_000
    )
    db = client.get_database(db_name, codec_options=CODEC_OPTIONS)
    await db.command("ping")
    await init_beanie(database=db, document_models=list(document_models))
    log.info("store ready: database %s", db_name)
    return Store(client=client, db=db, url=url, embedded=embedded)
