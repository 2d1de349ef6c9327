"""The reads a user waits on: one store's connections, threads and name index.

Searches and hovers run on the event loop's thread with a plain sqlite3
connection; the name index (names.NameIndex) is built and rebuilt beside them
as the store changes. The ranking itself is `search.search`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from enrich_core.store.names import NameIndex
from enrich_core.store.search import SearchHit, search

T = TypeVar("T")


def spans_version(conn: sqlite3.Connection) -> int:
    """How many commits have changed the spans (the writer counts them in meta, in the
    same transaction): a commit of glosses alone leaves the name index as it is. Was
    SQLite's data_version, which moves at every commit: at 100,000 spans, a ~0.3 s
    rebuild after any search while glossing went on."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'spans_generation'").fetchone()
    return int(row[0]) if row is not None else 0


# A name index of fewer spans than this (a build of a few ms) is rebuilt by the search
# that finds the store changed; a larger one beside the searches. By size, not by a
# build's time: a first build on a busy machine can take long for a tiny store.
INLINE_BUILD_SPANS = 2_000
# While the store changes at every commit (a first scan writes ~200 batches for a
# Django-sized tree), a large index rebuilt each time a search sees a change would
# keep a core busy beside the scan it slows: after a build, the next waits this
# many build times, so rebuilding takes at most an eighth of a core and a name
# committed meanwhile is found by name at most ~8 build times later. The scan's end
# asks for a build at once (`Searcher.refresh`): its last names wait for no gap.
# (3, a quarter of a core, cost a Django-sized first scan ~0.3 s of its 2 cores.)
REBUILD_GAP_FACTOR = 7


class Searcher:
    """Searches and hovers of one store: the reads a user waits on.

    `connect` opens a plain sqlite3 connection. Searches and hovers run on the
    event loop's thread (`run_inline`); other reads, and those that met a lock,
    on a reads' thread (`run`). The name index is built on a second thread with
    its own connection when the store is opened (the first search waits for it). A
    search that finds the spans changed since (`spans_version`) rebuilds
    a small index itself (under INLINE_BUILD_SPANS), so it sees every committed
    name; a large one is rebuilt on the second thread while searches go on
    with the old one, so for one build's time (~0.3 s at 100,000 spans), or
    while writes go on up to REBUILD_GAP_FACTOR + 1 build times, the name tiers
    may miss a span committed meanwhile, and a span gone since is passed over.
    A scan's end (`refresh`) starts a build at once."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], prompt_version: str) -> None:
        self._connect = connect
        self.prompt_version = prompt_version
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="gloss-reads")
        self._builder = ThreadPoolExecutor(1, thread_name_prefix="gloss-names")
        self._conn: sqlite3.Connection | None = None
        self._inline: sqlite3.Connection | None = None
        self._index: NameIndex | None = None
        self._building: Future[NameIndex] | None = None
        self._built_version: int | None = None
        self._build_s = 0.0  # how long the last build took
        self._built_at = 0.0  # when it ended (perf_counter)
        # A build asked for while one ran (`refresh`): the spans version it must see.
        self._again: int | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def start(self) -> None:
        """Begin building the name index on its own thread (the first search waits)."""
        version = spans_version(self._inline_conn())
        with self._lock:
            self._start_build(version)

    def _inline_conn(self) -> sqlite3.Connection:
        if self._inline is None:
            if self._closed.is_set():
                raise sqlite3.ProgrammingError("the store's reads are closed")
            self._inline = self._connect()
            # Never waits on a lock: SQLITE_BUSY is raised, and the caller uses `run`.
            self._inline.execute("PRAGMA busy_timeout = 0")
        return self._inline

    def run_inline(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(connection)` here, on the caller's (the event loop's) thread, for the
        reads a user waits on (a hover, a search: a few milliseconds of CPU at most, on
        indexed rows and in-memory names). Two thread switches cost more than a hover's
        read, and on a busy machine each may wait for a CPU: measured at 100,000 spans
        under load, p99 of hover fell from 10 ms to the bare LSP round trip's."""
        return work(self._inline_conn())

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(connection)` on the reads' thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, work)

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            if self._closed.is_set():
                raise sqlite3.ProgrammingError("the store's reads are closed")
            self._conn = self._connect()
        return work(self._conn)

    async def search(
        self, query: str, limit: int, near: Sequence[str], *, names_first: bool = False
    ) -> list[SearchHit]:
        conn = self._inline_conn()
        index = await self._names(conn)
        pv = self.prompt_version
        try:
            return search(conn, index, query, limit, near, pv, names_first=names_first)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
        return await self.run(
            lambda reads: search(reads, index, query, limit, near, pv, names_first=names_first)
        )

    async def _names(self, conn: sqlite3.Connection) -> NameIndex:
        """The name index, rebuilt if the spans changed since (`spans_version`)."""
        version = spans_version(conn)
        with self._lock:
            index = self._index
            if index is not None and version == self._built_version:
                return index
            if index is not None and len(index.ids) >= INLINE_BUILD_SPANS:
                # Large: rebuilt beside the searches, which go on with this one.
                if time.perf_counter() - self._built_at >= REBUILD_GAP_FACTOR * self._build_s:
                    self._start_build(version)
                return index
            building = self._building
        if building is not None:
            return await asyncio.wrap_future(building)
        # Small: rebuilt here, so a search sees every committed name.
        started = time.perf_counter()
        index = NameIndex.build(conn)
        with self._lock:
            self._index, self._built_version = index, version
            self._built_at = time.perf_counter()
            self._build_s = self._built_at - started
        return index

    def refresh(self) -> None:
        """The store's writes have settled (a scan's last commit is in): build the name
        index now, whatever the time since the last build, so a search sees every name
        one build later instead of after the gap that paces rebuilds while writes go on.
        On the event loop's thread (the reads' connection lives there)."""
        if self._closed.is_set():
            return
        version = spans_version(self._inline_conn())
        with self._lock:
            if self._index is not None and version == self._built_version:
                return
            if self._building is not None:
                self._again = version  # the build under way may have begun before it
                return
            self._start_build(version)

    def _start_build(self, version: int) -> Future[NameIndex]:
        """Under `_lock`: the build under way, or a new one."""
        if self._building is None:
            self._building = self._builder.submit(self._build, version)
        return self._building

    def _build(self, version: int) -> NameIndex:
        """The index as the store stands; `version` is the spans version seen before
        this began (so a commit during the build is seen as a change by the next
        search)."""
        started = time.perf_counter()
        try:
            conn = self._connect()
            try:
                before = spans_version(conn)
                index = NameIndex.build(conn)
                after = spans_version(conn)
            finally:
                conn.close()
        except BaseException:
            with self._lock:
                self._building = None
            raise
        with self._lock:
            self._index = index
            self._built_version = version
            self._built_at = time.perf_counter()
            self._build_s = self._built_at - started
            self._building = None
            again, self._again = self._again, None
            if again is not None and not self._closed.is_set():
                with contextlib.suppress(RuntimeError):  # closed meanwhile: no more builds
                    self._start_build(again)
        if again is None and before == after and not self._closed.is_set():
            # The store held still while this was built: the misspelt tier's trigrams
            # are made here, not by the first misspelt search (while writes go on,
            # each build would make them for nothing).
            index.gram_postings()
        return index

    async def close(self) -> None:
        self._closed.set()
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close_conn)
        self._executor.shutdown(wait=False)
        self._builder.shutdown(wait=False, cancel_futures=True)

    def _close_conn(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
