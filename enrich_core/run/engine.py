"""The engine: one workspace's scan, queue, workers, writer and reads, behind one object.

The CLI and the LSP server drive the same `Engine`. It owns every background
task it starts (workers, watcher) and stops them in `stop()`, draining the
writer so nothing committed-to is lost. Reads (`hover`, `search`, `status`)
only query the store and the in-memory queue: they never wait for a scan or a
model. File I/O and parsing run in a thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from enrich_core.config import Config
from enrich_core.llm.backend import Backend
from enrich_core.llm.breaker import Breaker
from enrich_core.llm.outbound import PROMPT_VERSION
from enrich_core.llm.router import Router
from enrich_core.records.attempt import AttemptEvent, AttemptListener
from enrich_core.records.result import GlossResult
from enrich_core.records.status import (
    BackendHealth,
    DroppedSpans,
    LastResult,
    Progress,
    QueueStatus,
    WorkspaceStatus,
)
from enrich_core.run.embed_jobs import Meaning, make_meaning
from enrich_core.run.engine_edits import (
    SCAN_CHUNK_FILES,
    DropListener,
    EditHandling,
    span_ref,
)
from enrich_core.run.engine_reads import StoreReading
from enrich_core.run.engine_store import StoreHandover
from enrich_core.run.gpu import GpuMonitor
from enrich_core.run.gpu_watch import GpuWatch
from enrich_core.run.pool import WorkPool
from enrich_core.run.retry import RetryPolicy, RetryQueue
from enrich_core.run.scheduler import Priority, Scheduler, SpanRef
from enrich_core.run.span_context import CalleeReads, ContextGatherer
from enrich_core.run.status import backend_health, workspace_status
from enrich_core.source.code_facts import facts_of
from enrich_core.source.indexer import Indexer, SpanTexts
from enrich_core.source.parse_pool import ParsePool
from enrich_core.source.parsed_file import ParsedFile
from enrich_core.store.access import StoreAccess, StoreRole
from enrich_core.store.health import STORE_ERRORS, classify
from enrich_core.store.reads import HoverInfo, Store, Unglossed
from enrich_core.store.write_ops import RecordResult, RemoveFiles, ReplaceFile, SkipFile
from enrich_core.store.writer import Writer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScanReport:
    files: int
    parsed: int
    unchanged: int
    skipped: int
    removed: int
    queued: int
    # False when this process does not write the store (another Gloss does, or it is
    # read-only): nothing was scanned, and what is stored may be out of date.
    fresh: bool = True


ResultListener = Callable[[SpanRef, GlossResult], None]


class Engine(StoreHandover, EditHandling, StoreReading):
    def __init__(
        self,
        root: Path,
        config: Config,
        *,
        backends: Mapping[str, Backend] | None = None,
        gpu: GpuMonitor | None = None,
        pool: WorkPool | None = None,
    ) -> None:
        self.root = root.resolve()
        self.config = config
        self.indexer = Indexer(self.root, config.index)
        self.texts = SpanTexts()
        # Each span's context for its prompt: imports, outline, callees' summaries.
        self.contexts = ContextGatherer(self._callee_reads)
        self.gpu = gpu or GpuMonitor()  # read directly only when not glossing
        self._given_backends = backends
        self.backends: dict[str, Backend] = {}
        self.scheduler = Scheduler()
        self.writer = Writer(config.store_path(self.root))
        # Who writes the store (one process per store), its checks and repairs.
        self.access = StoreAccess(config.store_path(self.root), self.writer, PROMPT_VERSION)
        self.writer.add_problem_listener(self._writer_problem)
        self.access.on_damage = self._store_damaged
        self._rebuild_task: asyncio.Task[None] | None = None
        self.store: Store | None = None
        self._glossing = False
        self._takeover_task: asyncio.Task[None] | None = None
        self._requeue_task: asyncio.Task[None] | None = None
        self.router: Router | None = None
        # The LSP server shares one pool between its workspace folders; alone
        # (the CLI, tests), an engine starts and stops a pool of its own.
        self.pool = pool
        self._owns_pool = pool is None
        self._stopping = asyncio.Event()
        self._listeners: list[ResultListener] = []
        self._attempt_listeners: list[AttemptListener] = []
        # A failed span is tried again on a timer (retry.py); `gloss index` says not.
        self.retry_on_timer = True
        # Path -> its spans that left the queue unglossed because the file went.
        self.dropped: dict[str, DroppedSpans] = {}
        self._drop_listeners: list[DropListener] = []
        self._attempts: dict[str, int] = {}  # failed hash -> failures so far (as stored)
        self._unsaved: set[str] = set()  # documents whose stored spans are an unsaved buffer
        # Spans the user asked to gloss again -> the tier to start at. Such a span
        # keeps its gloss if the new attempt fails, and is not retried on a timer.
        self._asked_again: dict[str, int] = {}
        self.retries = RetryQueue(
            RetryPolicy(config.retry.base_s, config.retry.max_s),
            lambda ref: self.scheduler.submit(ref, Priority.BACKLOG),
        )
        self._retry_task: asyncio.Task[None] | None = None
        self._scan_lock = asyncio.Lock()
        self.scanned = asyncio.Event()  # set after the first full scan has queued the backlog
        # [search] embeddings (run/embed_jobs.py): gloss vectors, and a query's nearest.
        self.meaning: Meaning | None = None
        self._meaning_task: asyncio.Task[None] | None = None
        self._listeners.append(self._gloss_written)

    # --- lifecycle ---------------------------------------------------------

    async def start(self, *, glossing: bool = True, role: StoreRole | None = None) -> None:
        """Open the store; with `glossing`, connect backends and take work from the pool.

        Only the process that writes the store glosses (store/access.py): when
        another Gloss writes it, this engine reads what that one writes, and as
        a server (`role` SERVE, the default when glossing) takes over when it
        stops. Raises `StoreError` for a store that must not be touched."""
        self._glossing = glossing
        role = role or (StoreRole.SERVE if glossing else StoreRole.READ)
        # A `gloss index` run tries each span once (one pass through the tiers): a
        # failure is reported, and the next run retries it at once. Timer retries
        # would try it again inside the run, which waits for them: 30 s, 60 s, ...
        # later, so one run cost several calls per failing span and minutes more.
        self.retry_on_timer = role is not StoreRole.INDEX
        await self.access.open(role)
        self.store = self.access.reads
        if self.writing:
            if glossing:
                await self._start_glossing()
        elif role is StoreRole.SERVE and self.access.holder is not None:
            self._takeover_task = asyncio.create_task(
                self._take_over_later(), name=f"gloss-store-takeover {self.root}"
            )
        elif role is StoreRole.SERVE and self.access.problem and self.access.problem.kind.passing:
            self._takeover_task = asyncio.create_task(
                self._write_when_possible(), name=f"gloss-store-retry {self.root}"
            )
        if self.meaning is None:
            await self._start_meaning()

    async def _start_glossing(self) -> None:
        if self.pool is None:
            self.pool = WorkPool(self.gpu, self.config.gpu)
        await self.pool.start()
        self.backends = self.pool.backends_for(self.config.backends, self._given_backends)
        self.router = Router(
            self.config.tiers,
            self.backends,
            breakers=self.pool.breakers_for(self.backends),
            context_parts=self.config.prompt.context,
            read_facts=facts_of,
            on_attempt=self._attempt_happened,
        )
        self._retry_task = asyncio.create_task(
            self.retries.run(self._stopping), name="gloss-retry-timer"
        )
        self.pool.attach(self, self.config.gpu)
        await self._start_meaning()

    async def _start_meaning(self) -> None:
        """With `[search] embeddings`: the query lookup, and where this process glosses,
        the job embedding each gloss after the backlog (started again on taking over)."""
        await self._stop_meaning()
        glossing = self.router is not None and self.pool is not None
        self.meaning = make_meaning(
            self.config,
            self.store_file,
            self.backends,
            self._breakers(),
            self.writer if glossing else None,
            self.pool.wait_idle if glossing and self.pool is not None else None,
        )
        if self.meaning is not None and self.meaning.writer is not None:
            self._meaning_task = asyncio.create_task(
                self.meaning.run(self._stopping), name=f"gloss-embed {self.root}"
            )

    async def _stop_meaning(self) -> None:
        if self._meaning_task is not None:
            self._meaning_task.cancel()
            await asyncio.gather(self._meaning_task, return_exceptions=True)
            self._meaning_task = None
        if self.meaning is not None:
            meaning, self.meaning = self.meaning, None
            await meaning.close()

    def _gloss_written(self, ref: SpanRef, result: GlossResult) -> None:
        if self.meaning is not None and result.gloss is not None:
            self.meaning.wake()

    def used_backends(self) -> list[Backend]:
        used = {name for tier in self.config.tiers for name in tier.backends}
        return [b for name, b in self.backends.items() if name in used]

    def worker_count(self) -> int:
        """This workspace's backends' total concurrency: more workers would only queue."""
        used = {name for tier in self.config.tiers for name in tier.backends}
        return sum(b.max_concurrency for b in self.config.backends if b.name in used)

    @property
    def gpu_watch(self) -> GpuWatch | None:
        return self.pool.gpu_watch if self.pool is not None else None

    async def stop(self) -> None:
        self._stopping.set()
        for task in (self._takeover_task, self._requeue_task, self._rebuild_task):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._takeover_task = self._requeue_task = self._rebuild_task = None
        await self._stop_meaning()
        if self._retry_task is not None:
            await self._retry_task
            self._retry_task = None
        if self.pool is not None:
            await self.pool.detach(self)
            if self._owns_pool:
                await self.pool.stop()
                self.pool = None
        # Reads close first: the writer's connection, closing last, checkpoints the
        # WAL into the file and removes it, so the file alone is the whole store
        # (a read-only mount or a copy then reads all of it).
        await self.access.close_reads()
        self.store = None
        await self.writer.stop()
        await self.access.close()
        self.backends.clear()
        self.gpu.close()

    def add_listener(self, listener: ResultListener) -> None:
        self._listeners.append(listener)

    def add_attempt_listener(self, listener: AttemptListener) -> None:
        """Told each request the router sends for a span, its return, and each wait
        (records/attempt.py): what a progress display says is being tried."""
        self._attempt_listeners.append(listener)

    def _attempt_happened(self, event: AttemptEvent) -> None:
        for listener in self._attempt_listeners:
            try:
                listener(event)
            except Exception:
                log.exception("an attempt listener failed")

    def add_drop_listener(self, listener: DropListener) -> None:
        """Told (path, the spans dropped just now) when a gone file's spans leave the queue."""
        self._drop_listeners.append(listener)

    def _store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the engine is not started")
        return self.store

    async def _reads(self) -> Store:
        """The store for a read: a stand-in for a store another Gloss had not yet made
        is swapped for the real one once it exists."""
        self._store()
        self.store = await self.access.current_reads()
        return self.store

    # --- indexing ----------------------------------------------------------

    async def scan(self, *, retry_failed_now: bool = False) -> ScanReport:
        """Bring the store up to date with the disk, then queue every span without a gloss.

        Spans that failed before wait out their backoff, unless `retry_failed_now`
        (an explicit `gloss index`: the user has just fixed what was wrong)."""
        if not self.writing:
            self.scanned.set()
            return ScanReport(0, 0, 0, 0, 0, 0, fresh=False)
        try:
            return await self._scan(retry_failed_now)
        except STORE_ERRORS as exc:
            # The store failed under the scan (damaged since it was opened): told,
            # and the next start checks every page and rebuilds it.
            self.access.read_failed(exc)
            self.scanned.set()
            return ScanReport(0, 0, 0, 0, 0, 0, fresh=False)

    async def _scan(self, retry_failed_now: bool) -> ScanReport:
        async with self._scan_lock:
            store = self._store()
            stamps = await store.file_stamps()
            skipped_before = set(await store.skipped_files())
            files = await asyncio.to_thread(self.indexer.walk)
            seen: set[str] = set()
            skipped_now: set[str] = set()
            early: set[str] = set()  # hashes queued while the scan went on
            parsed = unchanged = skipped = 0
            # A first scan (many files to parse) is parsed by worker processes on
            # the other cores; each chunk is written as it comes, so its names are
            # searchable while the rest is still being parsed.
            index = self.config.index
            pool = ParsePool(index.max_file_bytes, index.parse_workers)
            chunks = self.indexer.scan_chunks(files, stamps, SCAN_CHUNK_FILES, pool)
            try:
                while True:
                    chunk = await asyncio.to_thread(next, chunks, None)
                    if chunk is None:
                        break
                    seen.update(chunk.seen)
                    unchanged += chunk.unchanged
                    for p in chunk.parsed:
                        self.writer.submit(
                            ReplaceFile(p.path, p.mtime_ns, p.size, p.spans, p.unparsed)
                        )
                        if self.texts.has_room():
                            # The backlog starts with the first files scanned: keep
                            # their parse so the first glosses need no second parse.
                            self.texts.remember(p)
                    early |= await self._queue_new_texts(chunk.parsed)
                    for s in chunk.skipped:
                        self.writer.submit(SkipFile(s.path, s.reason))
                        skipped_now.add(s.path)
                    parsed += len(chunk.parsed)
                    skipped += len(chunk.skipped)
            finally:
                pool.close()  # at once, even when cancelled: the workers' stdin closes
                await asyncio.to_thread(pool.wait_closed)
            removed = sorted(set(stamps) - seen)
            # A file skipped before and gone since, or now read, or a directory no
            # longer skipped: its reason no longer describes the workspace.
            removed_skips = sorted(skipped_before - skipped_now - seen)
            if removed or removed_skips:
                self.writer.submit(RemoveFiles(removed + removed_skips))
            await self._drop_queued_of([r for r in removed if self.scheduler.queued_in(r)])
            await self.writer.flush()
            if parsed or removed or removed_skips:
                store.refresh_names()  # every name is stored: searchable one build from now
            queued = len(early) + await self._queue_unglossed(retry_failed_now, early)
            self.scanned.set()
            return ScanReport(len(seen), parsed, unchanged, skipped, len(removed), queued)

    async def _queue_new_texts(self, parsed: Sequence[ParsedFile]) -> set[str]:
        """Queue, while the scan goes on, the spans of these files whose text Gloss has
        never seen (no gloss under any prompt, no failure on record), so the backends
        start on the first files while the rest are parsed; the hashes queued. Texts
        with a history wait for `_queue_unglossed` (backoff, refresh order)."""
        spans = [s for p in parsed for s in p.spans]
        if not spans:
            return set()
        known = await self._store().hashes_with_history({s.content_hash for s in spans})
        queued: set[str] = set()
        for p in parsed:
            # File by file; within one, the functions a span calls first.
            for s in p.in_gloss_order():
                if s.content_hash in known:
                    continue
                ref = SpanRef(s.path, s.qualname, s.content_hash, s.start_line)
                if self.scheduler.submit(ref, Priority.BACKLOG):
                    queued.add(s.content_hash)
        return queued

    async def _queue_unglossed(self, retry_failed_now: bool, queued_before: set[str]) -> int:
        """Queue every span whose text has no gloss; failed ones wait out their backoff.
        `queued_before`: queued by this scan already (whatever became of them since:
        a failure there waits out its backoff like any other)."""
        store = self._store()
        queued = 0
        refresh: list[Unglossed] = []
        for item in await store.unglossed_spans(skip=queued_before):
            ref = span_ref(item.span)
            if item.attempts:
                self._attempts[ref.content_hash] = item.attempts
                if (
                    not retry_failed_now
                    and item.last_try is not None
                    and self.retries.defer(ref, item.attempts, item.last_try)
                ):
                    continue  # failed before: waits out its backoff first
            if item.older_gloss:
                refresh.append(item)
            else:
                queued += self.scheduler.submit(ref, Priority.BACKLOG)
        # Glossed by an older prompt: still shown, so re-glossed after the
        # backlog and most recently touched files first, never as a flood.
        refresh.sort(key=lambda u: (-u.file_mtime_ns, u.span.path, u.span.start_line))
        for item in refresh:
            queued += self.scheduler.submit(span_ref(item.span), Priority.REFRESH)
        return queued

    async def wait_idle(self) -> None:
        await self.scheduler.wait_idle()
        await self.writer.flush()

    # --- workers -----------------------------------------------------------

    async def gloss_one(self, ref: SpanRef, priority: Priority = Priority.BACKLOG) -> None:
        """Gloss one span the pool popped from this engine's queue."""
        assert self.router is not None and self.pool is not None
        committed = False
        try:
            if self.writer.problem is not None:
                # The store cannot take results now (a full disk): no model call
                # is paid for only to be lost. The span stays pending and is
                # queued again when writing resumes (`_writer_problem`).
                return
            # Asked before the take: a file's context goes with its last span.
            file_context = self.texts.context(ref.path, ref.content_hash)
            span = self.texts.take(ref.path, ref.content_hash, self._disk_stamp)
            if span is None:
                # A miss costs one parse of the file, off the loop; the rest of
                # its spans then come from the cache.
                parsed = await asyncio.to_thread(self.indexer.parse_path, ref.path)
                if isinstance(parsed, ParsedFile):
                    self.texts.remember(parsed)
                    file_context = self.texts.context(ref.path, ref.content_hash)
                    span = self.texts.take(ref.path, ref.content_hash, self._disk_stamp)
            if span is None:
                if ref.path in self._unsaved:
                    return  # typed over: the buffer's newer text is queued on its own
                # The file changed, went or is skipped since this span was queued:
                # store what it is now, queue its new text, and tell the user
                # which spans left the queue and why (none stays pending unsaid).
                async with self._scan_lock:
                    await self._files_changed([ref.path], in_flight=ref)
                return
            start_tier = self._asked_again.get(ref.content_hash, 0)
            context = await self.contexts.gather(span, file_context)
            with self.pool.gpu_watch.track() as vram:
                result = await self.router.gloss(span, start_tier, context)
            self.contexts.written(result)  # its callers glossed before it commits see it
            # Do not wait for the commit here: the worker goes straight on to
            # the next span and the backend stays busy. Progress is reported
            # from the commit callback, after the row is durable.
            # Someone is looking at an edited or hovered span: commit it at once.
            urgent = priority <= Priority.EDITED
            record = RecordResult(result, PROMPT_VERSION, vram.peak_mb, span.start_line)
            future = self.writer.submit(record, urgent=urgent)
            future.add_done_callback(functools.partial(self._committed, ref, result))
            committed = True
        finally:
            if not committed:
                self.scheduler.done(ref.content_hash)

    def _callee_reads(self) -> CalleeReads | None:
        return self.store.callee_glosses if self.store is not None else None

    def _disk_stamp(self, rel: str) -> tuple[int, int] | None:
        """(mtime_ns, size) of a workspace file, None if it is gone: one stat, no read."""
        try:
            st = os.stat(os.path.join(self.root, rel))
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _committed(self, ref: SpanRef, result: GlossResult, future: asyncio.Future[None]) -> None:
        self.scheduler.done(ref.content_hash)
        self.contexts.committed(ref.content_hash)
        asked_again = self._asked_again.pop(ref.content_hash, None) is not None
        if future.cancelled() or future.exception() is not None:
            return
        if result.gloss is None and asked_again:
            pass  # its earlier gloss stands; the user sees the failure and may ask again
        elif result.gloss is None:
            attempts = self._attempts.get(ref.content_hash, 0) + 1
            self._attempts[ref.content_hash] = attempts
            if self.retry_on_timer:
                self.retries.defer(ref, attempts, time.time())
        else:
            self._attempts.pop(ref.content_hash, None)
        for listener in self._listeners:
            try:
                listener(ref, result)
            except Exception:
                log.exception("a result listener failed")

    # --- what drivers and the watcher ask ----------------------------------

    def wants(self, rel: str) -> bool:
        """Whether Gloss reads this workspace path (not ignored, not secret-looking)."""
        return self.indexer.filter.wants(rel)

    def reload_ignore_rules(self) -> None:
        """Read .gitignore and .git/info/exclude again after they changed."""
        self.indexer.reload_filter()

    @property
    def store_file(self) -> Path:
        return self.config.store_path(self.root)

    @property
    def hover_links(self) -> bool:
        """Whether hovers may turn bare URLs into links (`[hover] links`)."""
        return self.config.hover.links

    @property
    def edit_pause_s(self) -> float:
        """How long typing must pause before an unsaved buffer is glossed; 0 is never."""
        return self.config.index.idle_pause_ms / 1000.0

    @property
    def tier_names(self) -> list[str]:
        return [t.name for t in self.config.tiers]

    def outstanding(self) -> int:
        """Spans queued or being glossed now (not those waiting out a retry delay)."""
        return self.scheduler.queued + self.scheduler.in_flight

    def retry_in(self, content_hash: str) -> float | None:
        """Seconds until a failed span is tried again, or None if no retry is waiting."""
        return self.retries.due_in(content_hash)

    # --- reads -------------------------------------------------------------

    def request_gloss(self, info: HoverInfo) -> int | None:
        """A hover met a span without a current gloss: put it first. Its queue position."""
        span = info.span
        if info.gloss is not None and not info.stale and info.older_prompt is None:
            return None
        if info.failure is None and self.router is not None:
            self.scheduler.submit(span_ref(span), Priority.HOVER)
        return self.scheduler.position(span.content_hash)

    async def gloss_again(
        self, rel: str, line: int | None, *, escalate: bool = False
    ) -> tuple[int, str]:
        """On the user's word: gloss the span at `line` (the whole file if None) again,
        first in the queue; with `escalate`, from the tier after the one that wrote
        its gloss. (spans queued, a line for the user)."""
        if not self.writing:
            return 0, f"not glossed here: {self.access.why_not_writing()}"
        if self.router is None:
            return 0, "Gloss has no backends running for this folder"
        store = self._store()
        if line is None:
            spans = await store.spans_in_file(rel)
            if not spans:
                return 0, f"{rel} has no functions, methods or classes indexed"
        else:
            span = await store.span_at(rel, line)
            if span is None:
                return 0, f"no function, method or class at {rel}:{line + 1}"
            spans = [span]
        names = self.tier_names
        queued = 0
        tier_note = ""
        for span in spans:
            start = 0
            if escalate:
                current = (await store.hover_for(span)).gloss
                if current is None or current.tier not in names:
                    return 0, f"{span.qualname} has no gloss to escalate yet"
                start = names.index(current.tier) + 1
                if start >= len(names):
                    return 0, f"{span.qualname} was glossed by the last tier, {current.tier}"
                tier_note = f" by {names[start]}"
            if self.scheduler.submit(span_ref(span), Priority.HOVER):
                self._asked_again[span.content_hash] = start
                queued += 1
        what = spans[0].qualname if line is not None else f"{len(spans)} spans of {rel}"
        if not queued:
            return 0, f"{what}: already being glossed"
        return queued, f"{what}: queued to be glossed again{tier_note}"

    async def status(self, *, live_queue: bool = True) -> WorkspaceStatus:
        """This folder's report; without `live_queue` (a headless read) no queue is given.
        Raises `StoreError` when the store fails under it (damaged since it opened)."""
        try:
            report = await workspace_status(
                await self._reads(),
                self.config,
                root=self.root,
                breakers=self._breakers(),
                live=self.backends,
                queue=self.queue_status() if live_queue else None,
                gpu=self.pool.gpu_watch.status if self.pool else self.gpu.status,
            )
        except STORE_ERRORS as exc:
            self.access.read_failed(exc)
            raise classify(exc, self.store_file) from exc
        embeddings = None
        if self.meaning is not None:
            with contextlib.suppress(*STORE_ERRORS):
                embeddings = await self.meaning.status()
        return dataclasses.replace(
            report,
            store=self.access.status(),
            dropped_spans=dict(self.dropped),
            embeddings=embeddings,
        )

    def queue_status(self) -> QueueStatus:
        return QueueStatus(
            waiting_to_retry=self.retries.waiting,
            queued=self.scheduler.queued,
            in_flight=self.scheduler.in_flight,
            by_priority=self.scheduler.queued_by_priority(),
        )

    def progress(self, last: LastResult | None = None) -> Progress:
        """The live queue and backend health: cheap, sent after every committed gloss."""
        return Progress(
            root=str(self.root),
            scanned=self.scanned.is_set(),
            queued=self.scheduler.queued,
            in_flight=self.scheduler.in_flight,
            by_priority=self.scheduler.queued_by_priority(),
            last=last,
            backends=self.backend_health(),
        )

    def backend_health(self) -> dict[str, BackendHealth]:
        """Each backend's circuit breaker: cheap, for a status bar after every gloss."""
        return backend_health(self.config, self._breakers())

    def _breakers(self) -> Mapping[str, Breaker]:
        return self.router.breakers if self.router else {}

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

    def link_outside(self, rel: str) -> Path | None:
        """Where `rel` really is, when a symbolic link on its way leads out of the
        workspace (the link itself is inside); None for the workspace's own files.
        Such a file is never read or sent to a model, as the scan never follows links."""
        try:
            real = (self.root / rel).resolve()
        except (OSError, RuntimeError):  # a loop of links
            return None
        return None if real.is_relative_to(self.root) else real
