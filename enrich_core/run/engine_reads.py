"""The engine's reads for drivers: a hover, the span around a line, search, counts.

Each reads the store the engine opened; a store that fails under a read (damaged
since it opened) is told to `StoreAccess` and the read answers nothing, or, where
a caller must know, raises the classified `StoreError`. Search fuses the glosses
nearest a query's meaning when `[search] embeddings` is on. `Engine` inherits
this; what it uses of the engine is declared below.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from enrich_core.records.span import SpanRecord
from enrich_core.run.embed_jobs import Meaning
from enrich_core.store.access import StoreAccess
from enrich_core.store.health import STORE_ERRORS, classify
from enrich_core.store.reads import HoverInfo, Store
from enrich_core.store.search import SearchHit

log = logging.getLogger(__name__)


class StoreReading:
    access: StoreAccess
    meaning: Meaning | None
    _meaning_task: asyncio.Task[None] | None

    if TYPE_CHECKING:  # the engine's own, used here

        @property
        def store_file(self) -> Path: ...

        async def _reads(self) -> Store: ...

    async def hover(self, rel: str, line: int) -> HoverInfo | None:
        """What a hover on this line shows: the span whose header holds it, if any.
        None, with the problem told, when the store fails under it (damaged since)."""
        try:
            return await (await self._reads()).hover(rel, line)
        except STORE_ERRORS as exc:
            self.access.read_failed(exc)
            return None

    async def span_around(self, rel: str, line: int) -> SpanRecord | None:
        """The innermost span whose lines hold `line` (0-based): where a line off every
        header belongs, so `gloss hover` can say which definition it is inside.
        None when no span holds it, or when the store fails under it (the problem told)."""
        try:
            return await (await self._reads()).span_at(rel, line)
        except STORE_ERRORS as exc:
            self.access.read_failed(exc)
            return None

    async def text_count(self) -> int:
        """How many different texts the workspace's spans have (one gloss serves all the
        spans of a text). Raises `StoreError` when the store fails under it."""
        try:
            return await (await self._reads()).text_count()
        except STORE_ERRORS as exc:
            self.access.read_failed(exc)
            raise classify(exc, self.store_file) from exc

    async def search(
        self, query: str, limit: int = 50, *, by_meaning: bool = True, names_first: bool = False
    ) -> list[SearchHit]:
        """Symbols by name and by what their gloss says, fused best first (the rule:
        enrich_core.store.search). Plain text: no query is ever a syntax error.
        `by_meaning`: with `[search] embeddings`, fuse the glosses nearest the query's
        embedding too (one request to the embeddings backend per search).
        `names_first`: for a picker that lists name matches first (workspace/symbol):
        when names alone fill the limit, gloss text is not searched."""
        try:
            near = await self._near_by_meaning(query, limit) if by_meaning else ()
            reads = await self._reads()
            return await reads.search(query, limit, near=near, names_first=names_first)
        except STORE_ERRORS as exc:
            self.access.read_failed(exc)
            return []

    async def wait_embedded(self) -> bool:
        """With `[search] embeddings`, after the glossing: until every gloss has its vector
        (True) or an embedding request failed (False, the reason in the status). True at
        once without embeddings or where this process does not gloss."""
        if self.meaning is None or self._meaning_task is None:
            return True
        return await self.meaning.finish()

    async def _near_by_meaning(self, query: str, limit: int) -> Sequence[str]:
        """Content hashes of the glosses nearest the query's meaning, nearest first; ()
        without `[search] embeddings`, or when its backend rests or does not answer
        within `query_timeout_ms` (the search then ranks by names and words)."""
        if self.meaning is None:
            return ()
        try:
            return await self.meaning.near(query, limit)
        except STORE_ERRORS as exc:
            log.info("search without vectors: reading them failed: %s", exc)
            return ()
