"""The engine: one workspace's scan, queue, workers, writer and reads, behind one object.

The CLI and the LSP server drive the same `Engine`. It owns every background
task it starts (workers, watcher) and stops them in `stop()`, draining the
writer so nothing committed-to is lost. Reads (`hover`, `search`, `status`)
only query the store and the in-memory queue: they never wait for a scan or a
model. File I/O and parsing run in a thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from enrich_core.backends import Backend, make_backend
from enrich_core.config import Config
from enrich_core.discovery import SkippedFile
from enrich_core.gpu import GpuMonitor
from enrich_core.gpu_watch import GpuWatch
from enrich_core.indexer import Indexer, ParsedFile, SpanTexts
from enrich_core.metrics import pipeline_metrics
from enrich_core.prompt import PROMPT_VERSION
from enrich_core.retry import RetryPolicy, RetryQueue
from enrich_core.router import GlossResult, Router
from enrich_core.scheduler import Priority, Scheduler, SpanRef
from enrich_core.store import HoverInfo, SpanRecord, Store, SymbolHit
from enrich_core.writer import RecordResult, RemoveFiles, ReplaceFile, SkipFile, Writer

log = logging.getLogger(__name__)

SCAN_CHUNK_FILES = 64


@dataclass(frozen=True, slots=True)
class ScanReport:
    files: int
    parsed: int
    unchanged: int
    skipped: int
    removed: int
    queued: int


ResultListener = Callable[[SpanRef, GlossResult], None]


class Engine:
    def __init__(
        self,
        root: Path,
        config: Config,
        *,
        backends: Mapping[str, Backend] | None = None,
        gpu: GpuMonitor | None = None,
    ) -> None:
        self.root = root.resolve()
        self.config = config
        self.indexer = Indexer(self.root, config.index)
        self.texts = SpanTexts()
        self.gpu = gpu or GpuMonitor()
        self._given_backends = backends
        self.backends: dict[str, Backend] = {}
        self.scheduler = Scheduler()
        self.writer = Writer(config.store_path(self.root))
        self.store: Store | None = None
        self.router: Router | None = None
        self._workers: list[asyncio.Task[None]] = []
        self.gpu_watch: GpuWatch | None = None
        self._gpu_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._listeners: list[ResultListener] = []
        self._attempts: dict[str, int] = {}  # failed hash -> failures so far (as stored)
        self.retries = RetryQueue(
            RetryPolicy(config.retry.base_s, config.retry.max_s),
            lambda ref: self.scheduler.submit(ref, Priority.BACKLOG),
        )
        self._retry_task: asyncio.Task[None] | None = None
        self._scan_lock = asyncio.Lock()
        self.scanned = asyncio.Event()  # set after the first full scan has queued the backlog

    # --- lifecycle ---------------------------------------------------------

    async def start(self, *, glossing: bool = True) -> None:
        """Open the store; with `glossing`, connect backends and start the workers."""
        await self.writer.start()
        self.store = await Store.open(self.config.store_path(self.root), PROMPT_VERSION)
        if glossing:
            self.backends = dict(self._given_backends or {})
            for b in self.config.backends:
                if b.name not in self.backends:
                    self.backends[b.name] = make_backend(b)
            self.router = Router(self.config.tiers, self.backends)
            self.gpu_watch = GpuWatch(self.gpu, self.config.gpu, self.backends)
            # One reading before any work, so every gloss sees the GPU from its start.
            await self.gpu_watch.sample_once()
            self._gpu_task = asyncio.create_task(
                self.gpu_watch.run(self._stopping), name="gloss-gpu-watch"
            )
            self._retry_task = asyncio.create_task(
                self.retries.run(self._stopping), name="gloss-retry-timer"
            )
            for i in range(self.worker_count()):
                self._workers.append(asyncio.create_task(self._work(), name=f"gloss-worker-{i}"))

    def worker_count(self) -> int:
        """The backends' total concurrency: more workers would only queue at a semaphore."""
        used = {name for tier in self.config.tiers for name in tier.backends}
        return sum(b.max_concurrency for b in self.config.backends if b.name in used)

    async def stop(self) -> None:
        self._stopping.set()
        for background in (self._gpu_task, self._retry_task):
            if background is not None:
                await background
        self._gpu_task = self._retry_task = None
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._workers.clear()
        await self.writer.stop()
        if self.store is not None:
            await self.store.close()
            self.store = None
        for backend in self.backends.values():
            await backend.aclose()
        self.backends.clear()
        self.gpu.close()

    def add_listener(self, listener: ResultListener) -> None:
        self._listeners.append(listener)

    def _store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the engine is not started")
        return self.store

    # --- indexing ----------------------------------------------------------

    async def scan(self, *, retry_failed_now: bool = False) -> ScanReport:
        """Bring the store up to date with the disk, then queue every span without a gloss.

        Spans that failed before wait out their backoff, unless `retry_failed_now`
        (an explicit `gloss index`: the user has just fixed what was wrong)."""
        async with self._scan_lock:
            store = self._store()
            stamps = await store.file_stamps()
            files = await asyncio.to_thread(self.indexer.walk)
            seen: set[str] = set()
            parsed = unchanged = skipped = 0
            while True:
                chunk = await asyncio.to_thread(
                    self.indexer.next_chunk, files, stamps, SCAN_CHUNK_FILES
                )
                if chunk is None:
                    break
                seen.update(chunk.seen)
                unchanged += chunk.unchanged
                for p in chunk.parsed:
                    self.writer.submit(ReplaceFile(p.path, p.mtime_ns, p.size, p.spans))
                    if self.texts.has_room():
                        # The backlog starts with the first files scanned: keep
                        # their parse so the first glosses need no second parse.
                        self.texts.remember(p)
                for s in chunk.skipped:
                    self.writer.submit(SkipFile(s.path, s.reason))
                parsed += len(chunk.parsed)
                skipped += len(chunk.skipped)
            removed = sorted(set(stamps) - seen)
            if removed:
                self.writer.submit(RemoveFiles(removed))
            await self.writer.flush()
            queued = 0
            for record, attempts, last_try in await store.unglossed_spans():
                ref = _ref(record)
                if attempts:
                    self._attempts[ref.content_hash] = attempts
                    if (
                        not retry_failed_now
                        and last_try is not None
                        and self.retries.defer(ref, attempts, last_try)
                    ):
                        continue  # failed before: waits out its backoff first
                queued += self.scheduler.submit(ref, Priority.BACKLOG)
            self.scanned.set()
            return ScanReport(len(seen), parsed, unchanged, skipped, len(removed), queued)

    async def document_changed(self, rel: str, text: str) -> int:
        """The user saved (or paused on) an editor buffer: its changed spans go first."""
        parsed = await asyncio.to_thread(self.indexer.parse_text, rel, text)
        self.texts.set_buffer(parsed)
        return await self._replace(parsed, Priority.EDITED)

    def document_closed(self, rel: str) -> None:
        self.texts.drop_buffer(rel)

    async def files_changed(self, rels: Iterable[str]) -> int:
        """Files changed on disk (watcher): re-parse each, queue what lost its gloss."""
        queued = 0
        gone: list[str] = []
        for rel in rels:
            result = await asyncio.to_thread(self.indexer.parse_path, rel)
            if result is None:
                gone.append(rel)
            elif isinstance(result, SkippedFile):
                self.writer.submit(SkipFile(result.path, result.reason))
            else:
                queued += await self._replace(result, Priority.DISK)
        if gone:
            self.writer.submit(RemoveFiles(gone))
        return queued

    async def _replace(self, parsed: ParsedFile, priority: Priority) -> int:
        self.writer.submit(ReplaceFile(parsed.path, parsed.mtime_ns, parsed.size, parsed.spans))
        self.texts.remember(parsed)  # its changed spans are glossed next: no second parse
        hashes = [s.content_hash for s in parsed.spans]
        glossed = await self._store().glossed_hashes(hashes)
        queued = 0
        for s in parsed.spans:
            if s.content_hash not in glossed:
                ref = SpanRef(s.path, s.qualname, s.content_hash, s.start_line)
                queued += self.scheduler.submit(ref, priority)
        return queued

    async def wait_idle(self) -> None:
        await self.scheduler.wait_idle()
        await self.writer.flush()

    # --- workers -----------------------------------------------------------

    async def _work(self) -> None:
        assert self.router is not None
        while True:
            _, ref = await self.scheduler.get()
            committed = False
            try:
                span = self.texts.cached(ref.path, ref.content_hash)
                if span is None:
                    # A miss costs one parse of the file, off the loop; the rest of
                    # its spans then come from the cache.
                    parsed = await asyncio.to_thread(self.indexer.parse_path, ref.path)
                    if isinstance(parsed, ParsedFile):
                        self.texts.remember(parsed)
                        span = self.texts.cached(ref.path, ref.content_hash)
                if span is None:
                    continue  # the text changed again; the newer text is queued on its own
                assert self.gpu_watch is not None
                with self.gpu_watch.track() as vram:
                    result = await self.router.gloss(span)
                # Do not wait for the commit here: the worker goes straight on to
                # the next span and the backend stays busy. Progress is reported
                # from the commit callback, after the row is durable.
                future = self.writer.submit(RecordResult(result, PROMPT_VERSION, vram.peak_mb))
                future.add_done_callback(functools.partial(self._committed, ref, result))
                committed = True
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("glossing %s in %s failed unexpectedly", ref.qualname, ref.path)
            finally:
                if not committed:
                    self.scheduler.done(ref.content_hash)

    def _committed(self, ref: SpanRef, result: GlossResult, future: asyncio.Future[None]) -> None:
        self.scheduler.done(ref.content_hash)
        if future.cancelled() or future.exception() is not None:
            return
        if result.gloss is None:
            attempts = self._attempts.get(ref.content_hash, 0) + 1
            self._attempts[ref.content_hash] = attempts
            self.retries.defer(ref, attempts, time.time())
        else:
            self._attempts.pop(ref.content_hash, None)
        for listener in self._listeners:
            try:
                listener(ref, result)
            except Exception:
                log.exception("a result listener failed")

    # --- reads -------------------------------------------------------------

    async def hover(self, rel: str, line: int) -> HoverInfo | None:
        """What a hover on this line shows: the span whose header holds it, if any."""
        return await self._store().hover(rel, line)

    def request_gloss(self, info: HoverInfo) -> int | None:
        """A hover met a span without a current gloss: put it first. Its queue position."""
        span = info.span
        if info.gloss is not None and not info.stale:
            return None
        if info.failure is None and self.router is not None:
            self.scheduler.submit(_ref(span), Priority.HOVER)
        return self.scheduler.position(span.content_hash)

    async def search(self, query: str, limit: int = 100) -> list[SymbolHit]:
        return await self._store().search(query, limit)

    async def status(self) -> dict[str, Any]:
        store = self._store()
        out: dict[str, Any] = await store.status_counts()
        out["root"] = str(self.root)
        out["prompt_version"] = PROMPT_VERSION
        out["config_source"] = self.config.source
        out["by_tier"] = await store.by_tier()
        out["queue"] = {
            "waiting_to_retry": self.retries.waiting,
            "queued": self.scheduler.queued,
            "in_flight": self.scheduler.in_flight,
            "by_priority": self.scheduler.queued_by_priority(),
        }
        breakers = self.router.breakers if self.router else {}
        backends: dict[str, Any] = {}
        for b in self.config.backends:
            live = self.backends.get(b.name)
            breaker = breakers.get(b.name)
            backends[b.name] = {
                "kind": b.kind,
                "url": b.url,
                "healthy": breaker.state.value == "closed" if breaker else None,
                "state": breaker.state.value if breaker else "not started",
                "last_error": breaker.last_error if breaker else None,
                "in_flight": live.in_flight if live else 0,
                "errors": live.errors if live else 0,
                "max_concurrency": b.max_concurrency,
            }
        metrics = await pipeline_metrics(store, self.config)
        for name, numbers in metrics.pop("backend_requests").items():
            backends.setdefault(name, {}).update(numbers)
        out["backends"] = backends
        out.update(metrics)
        watch = self.gpu_watch
        out["gpu"] = await asyncio.to_thread(watch.status if watch else self.gpu.status)
        out["skipped_files"] = await store.skipped_files()
        out["failure_reasons"] = [
            {"reason": reason, "spans": n} for reason, n in await store.failure_reasons()
        ]
        return out

    def relative(self, path: Path) -> str | None:
        """A workspace-relative POSIX path, or None for a file outside the root.

        Lexical first: this runs on every hover, and resolving symlinks costs
        file-system calls; only a path that is not lexically under the root is
        resolved (it may reach the workspace through a symlink).
        """
        lexical = Path(os.path.normpath(path))
        try:
            return lexical.relative_to(self.root).as_posix()
        except ValueError:
            pass
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None


def _ref(record: SpanRecord) -> SpanRef:
    return SpanRef(record.path, record.qualname, record.content_hash, record.start_line)
