"""The one writer: a single task that owns the write connection and commits in batches.

Per-row commits in SQLite's default journal cost a sync each (63-101 rows/s
measured here); so every write in Gloss is a `WriteOp` handed to `Writer.submit`,
and one task commits them together: at most `max_rows` rows (64) or
`max_delay_s` (250 ms) after the first op of a batch, whichever comes first.
A file's span set is one op and commits whole, even past 64 rows, so a file is
never half-indexed. Each op's future resolves only after its batch has
committed: callers record progress on that, never before. `stop()` drains
every queued op before closing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiosqlite

from enrich_core.router import GlossResult
from enrich_core.spans import Span
from enrich_core.store import connect, search_text

log = logging.getLogger(__name__)

MAX_BATCH_ROWS = 64
MAX_BATCH_DELAY_S = 0.250


class WriteOp(Protocol):
    @property
    def rows(self) -> int: ...

    async def apply(self, conn: aiosqlite.Connection) -> None: ...


@dataclass(frozen=True, slots=True)
class ReplaceFile:
    """A file's current spans replace its old ones; an edited span keeps its old hash as
    `prev_hash`, so the hover can show the old gloss marked stale until the new one lands."""

    path: str
    mtime_ns: int
    size: int
    spans: Sequence[Span]

    @property
    def rows(self) -> int:
        return len(self.spans) + 1

    async def apply(self, conn: aiosqlite.Connection) -> None:
        async with conn.execute(
            "SELECT qualname, content_hash, prev_hash FROM spans WHERE path = ?", (self.path,)
        ) as cur:
            old = {r[0]: (r[1], r[2]) for r in await cur.fetchall()}
        await conn.execute("DELETE FROM spans WHERE path = ?", (self.path,))
        rows = []
        for s in self.spans:
            prev: str | None = None
            if s.qualname in old:
                old_hash, old_prev = old[s.qualname]
                prev = old_prev if old_hash == s.content_hash else old_hash
            rows.append(
                (
                    s.path, s.name, s.qualname, s.kind.value, s.container,
                    s.start_line, s.start_col, s.end_line, s.end_col,
                    s.name_line, s.name_col, s.name_end_col, s.header_end_line,
                    s.signature, s.docstring, s.content_hash, prev, s.name.lower(),
                )
            )  # fmt: skip
        await conn.executemany(
            "INSERT INTO spans (path, name, qualname, kind, container, start_line, start_col, "
            "end_line, end_col, name_line, name_col, name_end_col, header_end_line, signature, "
            "docstring, content_hash, prev_hash, name_lower) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        await conn.execute(
            "INSERT INTO files (path, mtime_ns, size) VALUES (?, ?, ?) ON CONFLICT (path) "
            "DO UPDATE SET mtime_ns = excluded.mtime_ns, size = excluded.size",
            (self.path, self.mtime_ns, self.size),
        )
        await conn.execute("DELETE FROM skipped_files WHERE path = ?", (self.path,))


@dataclass(frozen=True, slots=True)
class SkipFile:
    """A file that was not read, and why; its old spans (if any) go."""

    path: str
    reason: str

    @property
    def rows(self) -> int:
        return 1

    async def apply(self, conn: aiosqlite.Connection) -> None:
        await conn.execute("DELETE FROM spans WHERE path = ?", (self.path,))
        await conn.execute("DELETE FROM files WHERE path = ?", (self.path,))
        await conn.execute(
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

    async def apply(self, conn: aiosqlite.Connection) -> None:
        for table in ("spans", "files", "skipped_files"):
            await conn.executemany(
                f"DELETE FROM {table} WHERE path = ?", [(p,) for p in self.paths]
            )


@dataclass(frozen=True, slots=True)
class RecordResult:
    """A router result: the gloss a model wrote, or the failure and its reason."""

    result: GlossResult
    prompt_version: str
    gpu_peak_vram_mb: float | None = None

    @property
    def rows(self) -> int:
        return 1

    async def apply(self, conn: aiosqlite.Connection) -> None:
        r = self.result
        pv = self.prompt_version
        now = time.time()
        if r.gloss is not None:
            # Delete + insert rather than REPLACE: REPLACE's implicit delete does not
            # fire the trigger that keeps the full-text index in step.
            await conn.execute(
                "DELETE FROM glosses WHERE content_hash = ? AND prompt_version = ?",
                (r.content_hash, pv),
            )
            await conn.execute(
                "INSERT INTO glosses (content_hash, prompt_version, body, search_text, model, "
                "tier, backend, tokens_in, tokens_out, tokens_estimated, duration_ms, attempts, "
                "escalations, gpu_peak_vram_mb, created_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    r.content_hash, pv, r.gloss.to_json(), search_text(r.gloss), r.model,
                    r.tier, r.backend, r.tokens_in, r.tokens_out, int(r.tokens_estimated),
                    r.duration_ms, r.attempts, "\n".join(r.escalations), self.gpu_peak_vram_mb,
                    now,
                ),
            )  # fmt: skip
            await conn.execute(
                "DELETE FROM failures WHERE content_hash = ? AND prompt_version = ?",
                (r.content_hash, pv),
            )
        else:
            await conn.execute(
                "INSERT INTO failures (content_hash, prompt_version, reason, attempts, last_at) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (content_hash, prompt_version) DO UPDATE SET "
                "reason = excluded.reason, attempts = attempts + 1, last_at = excluded.last_at",
                (r.content_hash, pv, r.failure or "unknown", now),
            )
        await conn.executemany(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            [("llm_calls", r.attempts), ("tokens_in", r.tokens_in), ("tokens_out", r.tokens_out)],
        )


@dataclass(frozen=True, slots=True)
class Barrier:
    """No rows: its future resolves once everything submitted before it is committed."""

    rows: int = 0

    async def apply(self, conn: aiosqlite.Connection) -> None:
        return None


@dataclass
class _Pending:
    op: WriteOp
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


_STOP = object()


class Writer:
    def __init__(
        self,
        db_path: Path,
        *,
        max_rows: int = MAX_BATCH_ROWS,
        max_delay_s: float = MAX_BATCH_DELAY_S,
    ) -> None:
        self.db_path = db_path
        self.max_rows = max_rows
        self.max_delay_s = max_delay_s
        self.commits = 0
        self.rows_committed = 0
        self._queue: asyncio.Queue[_Pending | object] = asyncio.Queue()
        self._conn: aiosqlite.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._conn = await connect(self.db_path)
        self._task = asyncio.create_task(self._run(self._conn), name="gloss-writer")

    def submit(self, op: WriteOp) -> asyncio.Future[None]:
        """Queue an op; the returned future resolves after the batch holding it commits."""
        if self._task is None or self._task.done():
            raise RuntimeError("the writer is not running")
        pending = _Pending(op)
        self._queue.put_nowait(pending)
        return pending.done

    async def flush(self) -> None:
        await self.submit(Barrier())

    async def stop(self) -> None:
        """Commit everything queued, then close the connection (its thread ends with it)."""
        if self._task is not None:
            if not self._task.done():
                self._queue.put_nowait(_STOP)
                await self._task
            self._task = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _run(self, conn: aiosqlite.Connection) -> None:
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
            while rows < self.max_rows:
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
                    # Whatever was queued before the stop is part of the drain.
                    break
                assert isinstance(item, _Pending)
                if rows + item.op.rows > self.max_rows and batch:
                    await self._commit(conn, batch, rows)
                    batch, rows = [], 0
                    deadline = loop.time() + self.max_delay_s
                batch.append(item)
                rows += item.op.rows
            if batch:
                await self._commit(conn, batch, rows)
        # Drain anything queued after the stop sentinel too: nothing submitted is lost.
        rest: list[_Pending] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, _Pending):
                rest.append(item)
        for i in range(0, len(rest), self.max_rows):
            chunk = rest[i : i + self.max_rows]
            await self._commit(conn, chunk, sum(p.op.rows for p in chunk))

    async def _commit(self, conn: aiosqlite.Connection, batch: list[_Pending], rows: int) -> None:
        try:
            await conn.execute("BEGIN IMMEDIATE")
            for pending in batch:
                await pending.op.apply(conn)
            await conn.execute("COMMIT")
        except Exception as exc:
            log.exception("write batch of %d ops failed; rolled back", len(batch))
            try:
                await conn.execute("ROLLBACK")
            except Exception:
                log.debug("rollback after a failed batch also failed", exc_info=True)
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(exc)
            return
        self.commits += 1
        self.rows_committed += rows
        for pending in batch:
            if not pending.done.done():
                pending.done.set_result(None)
