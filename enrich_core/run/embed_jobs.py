"""Meaning: each gloss embedded once, after the glossing backlog; a query's nearest glosses.

`Meaning` exists only when `[search] embeddings` names a backend. Its job
(`run`) waits until no workspace sharing the work pool has spans queued or
being glossed, then embeds the glosses that have no vector of the configured
model, `batch_size` to a request, one request at a time, and hands the
vectors to the writer. Requests go through the configured backend's shared
client (llm/embeddings.py): the host's `max_concurrency` caps glossing and
embedding together, and its circuit breaker is the same one. A gloss written
later (an edit) wakes the job again. A failure is logged and tried again after
a growing pause; a resting host is waited out on its breaker.

`near` embeds a search query with a short deadline (the editor is waiting):
a resting host, one whose every slot is taken (by glossing), a slow one or any
failure answers () at once, and the search goes on by names and words. Nothing
here is on the hover path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

from enrich_core.config import Config, EmbeddingsConfig
from enrich_core.llm.backend import Backend, BackendError
from enrich_core.llm.breaker import Breaker, wait_for_change
from enrich_core.llm.embeddings import EmbeddingClient, EmbeddingsUnavailable
from enrich_core.llm.factory import make_backend
from enrich_core.llm.http import HttpBackend
from enrich_core.llm.outbound import PROMPT_VERSION
from enrich_core.records.status import EmbeddingsStatus
from enrich_core.store.vectors import (
    GlossToEmbed,
    StoreVectors,
    VectorReads,
    as_float32,
    sign_bits,
)
from enrich_core.store.writer import Writer

log = logging.getLogger(__name__)

# After a failed batch the job pauses this long, doubling up to the cap: no event
# says a host that answered with an error is fine again.
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 300.0
# The gloss fields a vector is made from: what the code does and what goes in
# and out, not the usage snippet's code or the pitfalls' caveats.
EMBEDDED_FIELDS = ("summary", "inputs", "outputs", "side_effects", "tags")


def embedding_text(body: str) -> str:
    """The text a gloss is embedded as, from its stored JSON."""
    data = json.loads(body)
    parts: list[str] = []
    for name in EMBEDDED_FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(v for v in value if isinstance(v, str))
    return "\n".join(p for p in parts if p.strip())


class Meaning:
    """One workspace's embeddings: the background job and the query-time lookup."""

    def __init__(
        self,
        config: EmbeddingsConfig,
        client: EmbeddingClient,
        reads: VectorReads,
        writer: Writer | None,
        pool_idle: Callable[[], Awaitable[None]],
    ) -> None:
        self.config = config
        self.client = client
        self.reads = reads
        self.writer = writer  # None: this process does not write the store, so no job
        self._pool_idle = pool_idle
        self._wake = asyncio.Event()
        self._wake.set()  # glosses from before this start may have no vector yet
        # Set while every gloss the job has been told of has its vector (a pass
        # found nothing left); cleared when a gloss is written or a pass fails.
        self.settled = asyncio.Event()
        self._failed = asyncio.Event()  # a pass ended on a failed request
        self.embedded = 0  # vectors written by this process
        self.requests = 0
        self.last_error: str | None = None
        self.owned_backend: Backend | None = None  # made for queries alone: closed here

    def wake(self) -> None:
        """A gloss was written: there may be one to embed."""
        self.settled.clear()
        self._wake.set()

    # --- the job -------------------------------------------------------------

    async def run(self, stopping: asyncio.Event) -> None:
        """Embed until `stopping` is set; owned (awaited or cancelled) by the engine."""
        pause = RETRY_FIRST_S
        while not stopping.is_set():
            await self._until(stopping, self._wake.wait())
            if stopping.is_set():
                return
            self._wake.clear()
            try:
                await self._embed_all(stopping)
                pause = RETRY_FIRST_S
                if not self._wake.is_set():
                    self.settled.set()
            except EmbeddingsUnavailable as exc:
                self.last_error = str(exc)
                self._failed.set()
                self._wake.set()
                breaker = self.client.breaker
                if breaker is not None:
                    hint = breaker.wait_hint()
                    await wait_for_change([breaker], RETRY_MAX_S if hint is None else hint)
            except Exception as exc:  # a request, or the store under the writer
                self.last_error = str(exc) or type(exc).__name__
                self._failed.set()
                if isinstance(exc, BackendError):
                    log.warning("embedding glosses failed: %s; trying again in %g s", exc, pause)
                else:
                    log.exception("embedding glosses failed; trying again in %g s", pause)
                self._wake.set()
                await self._until(stopping, asyncio.sleep(pause))
                pause = min(pause * 2, RETRY_MAX_S)

    async def _embed_all(self, stopping: asyncio.Event) -> None:
        """One pass over the store's glosses without a vector, a batch at a time."""
        after = 0
        while not stopping.is_set():
            await self._pool_idle()  # glossing first: the backlog, edits, hovers
            batch = await self.reads.to_embed(after, self.config.batch_size)
            if not batch:
                return
            await self._embed_batch(batch)
            after = batch[-1].gloss_id

    async def _embed_batch(self, batch: Sequence[GlossToEmbed]) -> None:
        assert self.writer is not None
        texts = [embedding_text(g.body) for g in batch]
        self.requests += 1
        vectors = await self.client.embed(texts)
        rows = []
        for gloss, vector in zip(batch, vectors, strict=True):
            v = as_float32(vector)
            rows.append((gloss.gloss_id, sign_bits(v), v.tobytes()))
        # Committed before the next read, so the next batch never asks for these again.
        await self.writer.submit(StoreVectors(self.client.model, rows), urgent=True)
        self.embedded += len(rows)
        self.last_error = None

    async def finish(self) -> bool:
        """Until every gloss has its vector (True) or a request fails (False): what a
        headless `gloss index` waits for, which must not wait out a host that is down."""
        self._failed.clear()
        waits = [
            asyncio.ensure_future(self.settled.wait()),
            asyncio.ensure_future(self._failed.wait()),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        return self.settled.is_set()

    @staticmethod
    async def _until(stopping: asyncio.Event, waiting: Awaitable[object]) -> None:
        """`waiting`, or until `stopping` is set, whichever is first."""
        task = asyncio.ensure_future(waiting)
        stop = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (task, stop):
                if not t.done():
                    t.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await t

    # --- queries -------------------------------------------------------------

    async def near(self, query: str, limit: int) -> Sequence[str]:
        """Content hashes of the glosses nearest `query`'s meaning, nearest first; () when
        the backend rests, fails or does not answer within `query_timeout_ms`."""
        if not query.strip() or limit <= 0:
            return ()
        if not self.client.available() or not self.client.slot_free():
            return ()  # resting, or busy glossing: words and names answer at once
        try:
            async with asyncio.timeout(self.config.query_timeout_ms / 1000):
                (vector,) = await self.client.embed([query], probe=False)
        except (TimeoutError, BackendError, EmbeddingsUnavailable) as exc:
            log.info("search without vectors: %s", exc or "no embedding in time")
            return ()
        return await self.reads.nearest(vector, limit)

    async def status(self) -> EmbeddingsStatus:
        glosses, vectors = await self.reads.counts()
        return EmbeddingsStatus(
            self.client.name, self.client.model, glosses, vectors, self.last_error
        )

    async def close(self) -> None:
        """After the job is cancelled: the vector reads, and a client made for queries."""
        await self.reads.close()
        if self.owned_backend is not None:
            await self.owned_backend.aclose()


def make_meaning(
    config: Config,
    store_file: Path,
    backends: Mapping[str, Backend],
    breakers: Mapping[str, Breaker],
    writer: Writer | None,
    pool_idle: Callable[[], Awaitable[None]] | None,
) -> Meaning | None:
    """The workspace's `Meaning`, or None without `[search] embeddings`. `backends` and
    `breakers`: the shared ones where this process glosses (then `writer` and
    `pool_idle` are given and the job runs); otherwise a client of its own answers
    queries, with no breaker of the pool's."""
    embeddings = config.search.embeddings
    if embeddings is None:
        return None
    backend = backends.get(embeddings.backend)
    owned = None
    if backend is None:
        backend = owned = make_backend(config.backend(embeddings.backend))
    if not isinstance(backend, HttpBackend):
        # A stand-in given by a test or bench for this name: it has no embeddings API.
        log.warning("backend %r cannot embed: search goes without vectors", embeddings.backend)
        return None
    client = EmbeddingClient(backend, breakers.get(embeddings.backend), embeddings)
    reads = VectorReads(store_file, embeddings.model, PROMPT_VERSION)
    idle = pool_idle if writer is not None else None
    meaning = Meaning(embeddings, client, reads, writer, idle or _never_idle)
    meaning.owned_backend = owned
    return meaning


async def _never_idle() -> None:
    raise RuntimeError("no embedding job runs where this process does not write the store")
