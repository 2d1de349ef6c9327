"""The one writer: a single task that owns the write connection and commits in batches.

A per-row commit in SQLite's default journal costs a few syncs each
(`python -m bench.writer_throughput` measures it beside this writer); so every
write in Gloss is a `WriteOp` (write_ops.py) handed to `Writer.submit`, and one task commits
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from enrich_core.store.db import open_for_writing
from enrich_core.store.health import StoreError, StoreProblemKind, classify, is_store_error
from enrich_core.store.write_ops import Barrier, ReplaceStore, WriteOp, apply_batch

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
