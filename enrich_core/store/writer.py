"""The one writer: a single task that owns the write connection and commits in batches.

A per-row commit in SQLite's default journal costs a few syncs each
(`python -m bench.writer_throughput` measures it beside this writer); so every
write in Gloss is a `WriteOp` handed to `Writer.submit`, and one task commits
them together: at most `max_rows` rows (64) or
`max_delay_s` (250 ms) after the first op of a batch, whichever comes first.
A file's span set is one op and commits whole, even past 64 rows, so a file is
never half-indexed. Each op's future resolves only after its batch has
committed: callers record progress on that, never before. `stop()` drains
every queued op before closing.

The store is never a reason to crash or to lose work. A batch that cannot be
written because of the disk (full, remounted read-only, an I/O error) is kept,
in order, and tried again on a backoff timer (no OS event says space was
freed) until it commits; meanwhile `problem` says why, listeners hear of it,
and reads go on from what is stored. A store found damaged while writing stops
the writer: those ops fail with the `StoreError`, nothing is recorded as a
failed gloss, and a server swaps in a fresh store (`ReplaceStore`) between
batches. Only `stop()` on a disk that is still full gives up what is queued
(the spans stay pending).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from enrich_core.records.result import GlossResult
from enrich_core.records.span import Span
from enrich_core.store.db import open_for_writing, search_text
from enrich_core.store.health import StoreError, StoreProblemKind, classify, is_store_error

log = logging.getLogger(__name__)

MAX_BATCH_ROWS = 64
MAX_BATCH_DELAY_S = 0.250
# A batch the disk refused is tried again after this, doubling up to the cap.
STALLED_RETRY_FIRST_S = 0.5
STALLED_RETRY_MAX_S = 15.0
# Problems the writer waits out rather than fails on: they can end by themselves.
WAITED_OUT = (StoreProblemKind.FULL, StoreProblemKind.IO, StoreProblemKind.READ_ONLY)

ProblemListener = Callable[[StoreError | None], None]
T = TypeVar("T")


class WriteOp(Protocol):
    """One unit of writing. `apply` runs on the writer's thread, inside its transaction."""

    @property
    def rows(self) -> int: ...

    def apply(self, conn: sqlite3.Connection) -> None: ...


@dataclass(frozen=True, slots=True)
class ReplaceFile:
    """A file's current spans replace its old ones; an edited span keeps its old hash as
    `prev_hash`, so the hover can show the old gloss marked stale until the new one lands."""

    path: str
    mtime_ns: int
    size: int
    spans: Sequence[Span]
    # Lines a syntax error kept from being parsed (definitions there may be missing).
    unparsed: str | None = None

    @property
    def rows(self) -> int:
        return len(self.spans) + 1

    def apply(self, conn: sqlite3.Connection) -> None:
        old = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                "SELECT qualname, content_hash, prev_hash FROM spans WHERE path = ?", (self.path,)
            )
        }
        _delete_spans(conn, [self.path])
        rows = []
        for s in self.spans:
            prev: str | None = None
            if s.qualname in old:
                old_hash, old_prev = old[s.qualname]
                if old_hash == s.content_hash:
                    prev = old_prev
                elif old_prev is not None and not _has_gloss(conn, old_hash):
                    # Edited again before the last text was glossed: the gloss
                    # the hover can still show (marked stale) is the older one.
                    prev = old_prev
                else:
                    prev = old_hash
            rows.append(
                (
                    s.path, s.name, s.qualname, s.kind.value, s.container,
                    s.start_line, s.start_col, s.end_line, s.end_col,
                    s.name_line, s.name_col, s.name_end_col, s.header_end_line,
                    s.signature, s.docstring, s.content_hash, prev, s.name.lower(),
                    s.language,
                )
            )  # fmt: skip
        conn.executemany(
            "INSERT INTO spans (path, name, qualname, kind, container, start_line, start_col, "
            "end_line, end_col, name_line, name_col, name_end_col, header_end_line, signature, "
            "docstring, content_hash, prev_hash, name_lower, language) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.execute(
            "INSERT INTO files (path, mtime_ns, size) VALUES (?, ?, ?) ON CONFLICT (path) "
            "DO UPDATE SET mtime_ns = excluded.mtime_ns, size = excluded.size",
            (self.path, self.mtime_ns, self.size),
        )
        conn.execute("DELETE FROM skipped_files WHERE path = ?", (self.path,))
        conn.execute("DELETE FROM partial_files WHERE path = ?", (self.path,))
        if self.unparsed:
            conn.execute(
                "INSERT INTO partial_files (path, note) VALUES (?, ?)", (self.path, self.unparsed)
            )


@dataclass(frozen=True, slots=True)
class SkipFile:
    """A file that was not read, and why; its old spans (if any) go."""

    path: str
    reason: str

    @property
    def rows(self) -> int:
        return 1

    def apply(self, conn: sqlite3.Connection) -> None:
        _delete_spans(conn, [self.path])
        conn.execute("DELETE FROM files WHERE path = ?", (self.path,))
        conn.execute("DELETE FROM partial_files WHERE path = ?", (self.path,))
        conn.execute(
            "INSERT INTO skipped_files (path, reason) VALUES (?, ?) "
            "ON CONFLICT (path) DO UPDATE SET reason = excluded.reason",
            (self.path, self.reason),
        )


@dataclass(frozen=True, slots=True)
class RemoveFiles:
    paths: Sequence[str]

    @property
    def rows(self) -> int:
        return len(self.paths)

    def apply(self, conn: sqlite3.Connection) -> None:
        _delete_spans(conn, self.paths)
        for table in ("files", "skipped_files", "partial_files"):
            conn.executemany(f"DELETE FROM {table} WHERE path = ?", [(p,) for p in self.paths])


@dataclass(frozen=True, slots=True)
class RecordResult:
    """A router result: the gloss a model wrote, or the failure and its reason."""

    result: GlossResult
    prompt_version: str
    gpu_peak_vram_mb: float | None = None

    @property
    def rows(self) -> int:
        return 1

    def apply(self, conn: sqlite3.Connection) -> None:
        RecordResult.apply_many(conn, [self])

    @staticmethod
    def apply_many(conn: sqlite3.Connection, ops: Sequence[RecordResult]) -> None:
        """Consecutive results in one go: a statement per table, the counters summed once."""
        now = time.time()
        glossed = [op for op in ops if op.result.gloss is not None]
        failed = [op for op in ops if op.result.gloss is None]
        if glossed:
            keys = [(op.result.content_hash, op.prompt_version) for op in glossed]
            # Delete + insert rather than REPLACE: REPLACE's implicit delete does not
            # fire the trigger that keeps the full-text index in step.
            conn.executemany(
                "INSERT INTO glosses_fts (glosses_fts, rowid, search_text) "
                "SELECT 'delete', id, search_text FROM glosses "
                "WHERE content_hash = ? AND prompt_version = ?",
                keys,
            )
            conn.executemany(
                "DELETE FROM glosses WHERE content_hash = ? AND prompt_version = ?", keys
            )
            (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM glosses").fetchone()
            conn.executemany(
                "INSERT INTO glosses (content_hash, prompt_version, body, search_text, model, "
                "tier, backend, tokens_in, tokens_out, tokens_estimated, duration_ms, attempts, "
                "escalations, gpu_peak_vram_mb, created_at, first_tier, route, trimmed) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [_gloss_row(op, now) for op in glossed],
            )
            conn.execute(
                "INSERT INTO glosses_fts (rowid, search_text) "
                "SELECT id, search_text FROM glosses WHERE id > ?",
                (top,),
            )
            conn.executemany(
                "DELETE FROM failures WHERE content_hash = ? AND prompt_version = ?", keys
            )
        if failed:
            conn.executemany(
                "INSERT INTO failures (content_hash, prompt_version, reason, attempts, last_at) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (content_hash, prompt_version) DO UPDATE SET "
                "reason = excluded.reason, attempts = attempts + 1, last_at = excluded.last_at",
                [
                    (op.result.content_hash, op.prompt_version, op.result.failure or "", now)
                    for op in failed
                ],
            )
        counts: Counter[str] = Counter()
        for op in ops:
            counts["llm_calls"] += op.result.attempts
            counts["tokens_in"] += op.result.tokens_in
            counts["tokens_out"] += op.result.tokens_out
            counts.update(f"rejected:{reason}" for reason in op.result.rejections)
        conn.executemany(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            sorted(counts.items()),
        )
        conn.executemany(
            "INSERT INTO llm_requests (backend, tier, model, ok, error, ms, tokens_in, "
            "tokens_out, estimated, at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (q.backend, q.tier, q.model, int(q.ok), q.error, q.ms, q.tokens_in,
                 q.tokens_out, int(q.estimated), now)
                for op in ops
                for q in op.result.requests
            ],
        )  # fmt: skip


def _has_gloss(conn: sqlite3.Connection, content_hash: str) -> bool:
    row = conn.execute("SELECT 1 FROM glosses WHERE content_hash = ? LIMIT 1", (content_hash,))
    return row.fetchone() is not None


def _delete_spans(conn: sqlite3.Connection, paths: Sequence[str]) -> None:
    conn.executemany("DELETE FROM spans WHERE path = ?", [(p,) for p in paths])


def _gloss_row(op: RecordResult, now: float) -> tuple[object, ...]:
    r = op.result
    assert r.gloss is not None
    return (
        r.content_hash, op.prompt_version, r.gloss.to_json(), search_text(r.gloss), r.model,
        r.tier, r.backend, r.tokens_in, r.tokens_out, int(r.tokens_estimated), r.duration_ms,
        r.attempts, "\n".join(r.escalations), op.gpu_peak_vram_mb, now, r.first_tier, r.route,
        r.trimmed,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Barrier:
    """No rows: its future resolves once everything submitted before it is committed."""

    rows: int = 0

    def apply(self, conn: sqlite3.Connection) -> None:
        return None


@dataclass(frozen=True, slots=True)
class ReplaceStore:
    """No rows: once everything before it is written, the writer closes the store,
    runs `prepare` on its thread (the damaged file is moved aside) and opens a
    fresh one there; everything after it is written to the fresh store."""

    prepare: Callable[[], object]
    rows: int = 0

    def apply(self, conn: sqlite3.Connection) -> None:
        return None


@dataclass
class _Pending:
    op: WriteOp
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


_STOP = object()


class Writer:
    """Owns the write connection on one thread of its own; commits batches there.

    A whole batch (BEGIN, every op, COMMIT) is one hop to that thread, so the
    event loop waits once per batch, not once per statement.
    """

    def __init__(
        self,
        db_path: Path,
        *,
        max_rows: int = MAX_BATCH_ROWS,
        max_delay_s: float = MAX_BATCH_DELAY_S,
        stalled_retry_first_s: float = STALLED_RETRY_FIRST_S,
        stalled_retry_max_s: float = STALLED_RETRY_MAX_S,
    ) -> None:
        self.db_path = db_path
        self.max_rows = max_rows
        self.max_delay_s = max_delay_s
        self.stalled_retry_first_s = stalled_retry_first_s
        self.stalled_retry_max_s = stalled_retry_max_s
        self.commits = 0
        self.rows_committed = 0
        self.ops_given_up = 0  # queued ops `stop()` could not write (a disk still full)
        # Why the last batch could not be written; None once one commits again.
        self.problem: StoreError | None = None
        self._listeners: list[ProblemListener] = []
        self._stop_asked = asyncio.Event()
        self._queue: asyncio.Queue[_Pending | object] = asyncio.Queue()
        self._thread: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open the store for writing. Raises `StoreError` when it cannot be (the thread
        is shut down again)."""
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gloss-writer")
        loop = asyncio.get_running_loop()
        try:
            self._conn = await loop.run_in_executor(self._thread, open_for_writing, self.db_path)
        except (sqlite3.Error, OSError) as exc:
            self._thread.shutdown(wait=True)
            self._thread = None
            raise classify(exc, self.db_path) from exc
        self._stop_asked.clear()
        self._task = asyncio.create_task(self._run(), name="gloss-writer")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def add_problem_listener(self, listener: ProblemListener) -> None:
        """Told of each new problem writing the store, and with None when writing resumes."""
        self._listeners.append(listener)

    def submit(self, op: WriteOp, *, urgent: bool = False) -> asyncio.Future[None]:
        """Queue an op; the returned future resolves after the batch holding it commits.

        `urgent`: someone is waiting for this row (an edit, a hover): its batch
        commits as soon as it is queued, not at the batch's deadline."""
        if self._task is None or self._task.done():
            raise RuntimeError("the writer is not running")
        pending = _Pending(op)
        self._queue.put_nowait(pending)
        if urgent:
            self._queue.put_nowait(_Pending(Barrier()))  # a barrier ends the batch
        return pending.done

    async def flush(self) -> None:
        """Commit everything submitted so far, now rather than at the batch's deadline."""
        await self.submit(Barrier())

    async def stop(self) -> None:
        """Commit everything queued, then close the connection and its thread."""
        self._stop_asked.set()  # a batch waiting out a full disk gets one last try
        if self._task is not None:
            if not self._task.done():
                self._queue.put_nowait(_STOP)
                await self._task
            self._task = None
        if self._thread is not None:
            if self._conn is not None:
                await asyncio.get_running_loop().run_in_executor(self._thread, self._conn.close)
                self._conn = None
            self._thread.shutdown(wait=True)
            self._thread = None

    async def replace_store(self, prepare: Callable[[], T]) -> T:
        """Write what is queued, then close the store, run `prepare` on the writer's
        thread and open a fresh store: see `ReplaceStore`. Returns what `prepare` did."""
        done: list[T] = []
        await self.submit(ReplaceStore(lambda: done.append(prepare())))
        return done[0]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is _STOP:
                break
            assert isinstance(first, _Pending)
            batch = [first]
            rows = first.op.rows
            deadline = loop.time() + self.max_delay_s
            while rows < self.max_rows and not isinstance(batch[-1].op, Barrier | ReplaceStore):
                if self._queue.empty():
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    try:
                        item = await asyncio.wait_for(self._queue.get(), remaining)
                    except TimeoutError:
                        break
                else:
                    item = self._queue.get_nowait()
                if item is _STOP:
                    stopping = True
                    break
                assert isinstance(item, _Pending)
                if rows + item.op.rows > self.max_rows:
                    await self._commit(batch, rows)
                    batch, rows = [], 0
                    deadline = loop.time() + self.max_delay_s
                batch.append(item)
                rows += item.op.rows
            if batch:
                await self._commit(batch, rows)
        # Whatever was queued after the stop sentinel is drained too: nothing
        # submitted is lost.
        rest: list[_Pending] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, _Pending):
                rest.append(item)
        for i in range(0, len(rest), self.max_rows):
            chunk = rest[i : i + self.max_rows]
            await self._commit(chunk, sum(p.op.rows for p in chunk))

    async def _commit(self, batch: list[_Pending], rows: int) -> None:
        replacing = [p for p in batch if isinstance(p.op, ReplaceStore)]
        if replacing:
            # It ends its batch (like a barrier), so it is last: the rest first.
            head = [p for p in batch if not isinstance(p.op, ReplaceStore)]
            if head:
                await self._commit(head, rows)
            for pending in replacing:
                await self._replace_store(pending)
            return
        conn = self._conn
        if conn is None:  # a fresh store could not be opened: nothing can be written
            self._fail(batch, self.problem or RuntimeError("the store is not open"))
            return
        assert self._thread is not None
        loop = asyncio.get_running_loop()
        delay = self.stalled_retry_first_s
        while True:
            try:
                await loop.run_in_executor(self._thread, apply_batch, conn, [p.op for p in batch])
                break
            except Exception as exc:
                if not is_store_error(exc):
                    log.exception("write batch of %d ops failed; rolled back", len(batch))
                    self._fail(batch, exc)
                    return
                problem = classify(exc, self.db_path)
                self._tell(problem)
                if problem.kind not in WAITED_OUT or self._stop_asked.is_set():
                    self.ops_given_up += len(batch)
                    log.error("%s; %d queued writes not made", problem.message, len(batch))
                    self._fail(batch, problem)
                    return
            # Kept, in order, until the disk takes it: waited out on a timer
            # (no event says space was freed), or once more at once on stop().
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_asked.wait(), delay)
            delay = min(delay * 2, self.stalled_retry_max_s)
        if self.problem is not None:
            log.warning("writing %s again", self.db_path)
            self._tell(None)
        self.commits += 1
        self.rows_committed += rows
        for pending in batch:
            if not pending.done.done():
                pending.done.set_result(None)

    async def _replace_store(self, pending: _Pending) -> None:
        assert self._thread is not None and isinstance(pending.op, ReplaceStore)
        op = pending.op
        old, self._conn = self._conn, None

        def swap() -> sqlite3.Connection:
            if old is not None:
                with contextlib.suppress(sqlite3.Error):
                    old.close()
            op.prepare()
            return open_for_writing(self.db_path)

        try:
            self._conn = await asyncio.get_running_loop().run_in_executor(self._thread, swap)
        except Exception as exc:
            problem = classify(exc, self.db_path) if is_store_error(exc) else exc
            log.error("replacing the store %s failed: %s", self.db_path, exc)
            if isinstance(problem, StoreError):
                self._tell(problem)
            pending.done.set_exception(problem)
            return
        if self.problem is not None:
            self._tell(None)
        pending.done.set_result(None)

    def _fail(self, batch: list[_Pending], exc: BaseException) -> None:
        for pending in batch:
            if not pending.done.done():
                pending.done.set_exception(exc)

    def _tell(self, problem: StoreError | None) -> None:
        same = (
            problem is not None
            and self.problem is not None
            and (problem.kind, problem.detail) == (self.problem.kind, self.problem.detail)
        )
        self.problem = problem
        if same:
            return
        if problem is not None:
            log.warning("cannot write the store: %s", problem.message)
        for listener in self._listeners:
            try:
                listener(problem)
            except Exception:
                log.exception("a store problem listener failed")


# The operations that change the spans table (every one goes through _delete_spans).
SPAN_OPS = (ReplaceFile, SkipFile, RemoveFiles)


def bump_spans_generation(conn: sqlite3.Connection) -> None:
    """Count a commit that changed the spans, in its own transaction: readers rebuild
    their in-memory name index when this moves (store/searcher.py), not after every
    commit, most of which only add glosses."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('spans_generation', '1') ON CONFLICT (key) "
        "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


def apply_batch(conn: sqlite3.Connection, ops: list[WriteOp]) -> None:
    """One transaction on the writer's thread: all of the batch, or none of it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        i = 0
        while i < len(ops):
            if isinstance(ops[i], RecordResult):
                j = i
                while j < len(ops) and isinstance(ops[j], RecordResult):
                    j += 1
                RecordResult.apply_many(conn, ops[i:j])  # type: ignore[arg-type]
                i = j
            else:
                ops[i].apply(conn)
                i += 1
        if any(isinstance(op, SPAN_OPS) for op in ops):
            bump_spans_generation(conn)
        conn.execute("COMMIT")
    except BaseException:
        # A full disk can fail the COMMIT itself; whatever failed, nothing of the
        # batch stays half-applied (and a failed ROLLBACK must not hide why).
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
