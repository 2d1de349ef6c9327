"""The engine's side of sharing a store: who writes it, taking it over, and repair.

One process writes a store (store/access.py decides by a lock). An engine that
does not write it reads what the writer commits and, as a server, takes over
when that process stops, or when a full disk frees up; a store met damaged is
moved aside and rebuilt by the server that writes it. `Engine` inherits this;
what it uses of the engine is declared below.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from enrich_core.llm.router import Router
from enrich_core.store.access import StoreAccess, StoreListener, StoreRole
from enrich_core.store.health import StoreError
from enrich_core.store.lock import LockHolder
from enrich_core.store.reads import Store
from enrich_core.store.writer import Writer

log = logging.getLogger(__name__)


class StoreHandover:
    root: Path
    access: StoreAccess
    writer: Writer
    store: Store | None
    router: Router | None
    _glossing: bool
    _stopping: asyncio.Event
    _scan_lock: asyncio.Lock
    _takeover_task: asyncio.Task[None] | None
    _requeue_task: asyncio.Task[None] | None
    _rebuild_task: asyncio.Task[None] | None

    if TYPE_CHECKING:  # the engine's own, used here

        @property
        def store_file(self) -> Path: ...

        async def _start_glossing(self) -> None: ...

        async def scan(self, *, retry_failed_now: bool = False) -> object: ...

        async def _queue_unglossed(
            self, retry_failed_now: bool, queued_before: set[str]
        ) -> int: ...

    @property
    def writing(self) -> bool:
        """Whether this process writes (and glosses for) the store."""
        return self.access.writing.is_set()

    async def take_over(self) -> bool:
        """Wait until no other process writes the store, then write and gloss it here."""
        if not await self.access.take_over():
            return False
        self.store = await self.access.current_reads()
        if self._glossing and self.router is None:
            await self._start_glossing()
        return True

    async def _take_over_later(self) -> None:
        try:
            await self.take_over()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("taking over the store %s failed", self.store_file)

    async def _write_when_possible(self) -> None:
        """A store that could not be opened for writing (a full disk) is tried again on a
        backoff timer: no event says space was freed. Reads go on meanwhile."""
        delay = self.writer.stalled_retry_first_s
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return
            try:
                if await self.access.retry_writer():
                    await self.take_over()  # the rest of taking it over: glossing
                    return
            except Exception:
                log.exception("opening the store %s for writing failed", self.store_file)
                return
            if self.access.holder is not None:
                await self._take_over_later()  # another process got there first
                return
            delay = min(delay * 2, self.writer.stalled_retry_max_s)

    @property
    def store_notices(self) -> tuple[str, ...]:
        """What happened to the store on the way in (a damaged file moved aside)."""
        return tuple(self.access.notices)

    @property
    def store_holder(self) -> LockHolder | None:
        """The other process that writes the store, when one does."""
        return self.access.holder

    @property
    def store_problem(self) -> StoreError | None:
        """Why the store cannot be written now: at open, or by the running writer."""
        return self.access.problem or self.writer.problem

    def why_not_writing(self) -> str | None:
        return self.access.why_not_writing()

    async def wait_writing(self) -> None:
        """Until this process writes the store (at once, or after taking it over)."""
        await self.access.writing.wait()

    def add_write_problem_listener(self, listener: Callable[[StoreError | None], None]) -> None:
        """Told when the writer cannot commit (a full disk), and with None when it can again."""
        self.writer.add_problem_listener(listener)

    def add_store_listener(self, listener: StoreListener) -> None:
        """Told (message, is it a problem) when the store changes hands or cannot be written."""
        self.access.add_listener(listener)

    def _writer_problem(self, problem: object) -> None:
        if problem is None and self.router is not None and not self._stopping.is_set():
            # Writing again: what was dropped from the queue meanwhile goes back.
            if self._requeue_task is None or self._requeue_task.done():
                self._requeue_task = asyncio.create_task(
                    self._requeue_unglossed(), name=f"gloss-requeue {self.root}"
                )

    def _store_damaged(self, problem: StoreError) -> None:
        """Damage met while running. A server that writes the store moves it aside and
        goes on with a fresh one at once; others leave that to the next start."""
        if not self.writing or self.access.role is not StoreRole.SERVE:
            return
        if self._stopping.is_set() or (self._rebuild_task and not self._rebuild_task.done()):
            return
        self._rebuild_task = asyncio.create_task(
            self._rebuild_store(problem), name=f"gloss-store-rebuild {self.root}"
        )

    async def _rebuild_store(self, problem: StoreError) -> None:
        try:
            async with self._scan_lock:
                await self.access.rebuild(problem)
                self.store = self.access.reads
            await self.scan()  # the fresh store learns the workspace; glosses are asked again
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("rebuilding the damaged store %s failed", self.store_file)

    async def _requeue_unglossed(self) -> None:
        async with self._scan_lock:
            await self._queue_unglossed(retry_failed_now=False, queued_before=set())
