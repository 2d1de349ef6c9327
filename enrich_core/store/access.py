"""Opening one workspace's store: checked, repaired if it must be, and who writes it.

What the engine gets from here is always a store it can read (the file, or an
empty one in memory with the reason told) and, when this process may write,
a running writer. The order matters: check the file (`health`), take the
writer lock (`lock`), open the writer (moving a damaged file aside once and
starting afresh), then open the read side, which never writes the file. A
problem the user must solve (a directory in the store's place, a newer
Gloss's store) is raised as `StoreError`; everything else is said in
`notices`, `problem` and `status()`, and reads go on.

Roles: a server (`serve`) repairs, also damage it meets while running
(`rebuild`), and when another process writes the store it reads meanwhile
and takes over when that one stops. `gloss index` (`index`)
repairs after a full page check, and decides itself whether to wait. A
reading command (`read`) writes only if it can do so at once (to bring the
store up to date first) and never moves a file aside.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

from enrich_core.records.status import StoreStatus
from enrich_core.store.db import SCHEMA_VERSION
from enrich_core.store.health import (
    MovedAside,
    StoreError,
    StoreProblemKind,
    classify,
    full_check,
    inspect,
    is_store_error,
    move_aside,
)
from enrich_core.store.lock import LockHolder, WriterLock
from enrich_core.store.reads import Store
from enrich_core.store.writer import Writer

log = logging.getLogger(__name__)

# (message, whether it is a problem) for the user, e.g. the server's window/showMessage.
StoreListener = Callable[[str, bool], None]


class StoreRole(enum.Enum):
    SERVE = "serve"
    INDEX = "index"
    READ = "read"


class StoreAccess:
    def __init__(self, db_path: Path, writer: Writer, prompt_version: str) -> None:
        self.db_path = db_path
        self.writer = writer
        self.prompt_version = prompt_version
        self.lock = WriterLock(db_path)
        # Left when damage was met while running: the next open checks every page.
        self.check_marker = db_path.with_name(db_path.name + ".needs-check")
        self.role = StoreRole.SERVE
        self.reads: Store | None = None
        self.writing = asyncio.Event()
        self.holder: LockHolder | None = None  # the other process that writes, if one does
        self.problem: StoreError | None = None  # why this process cannot write, if it cannot
        self.notices: list[str] = []  # what happened to the store on the way in
        # `reads` is an empty store standing in for a file not yet made (or not
        # readable): it answers nothing, and status says "unavailable".
        self._reads_stand_in = False
        self._reads_inode: int | None = None  # the file `reads` has open
        self._reopening = asyncio.Lock()  # two hovers at once reopen it once
        self._listeners: list[StoreListener] = []
        # Called when damage is met while running; the engine rebuilds if it writes.
        self.on_damage: Callable[[StoreError], None] | None = None
        writer.add_problem_listener(self._writer_problem)

    def add_listener(self, listener: StoreListener) -> None:
        self._listeners.append(listener)

    async def open(self, role: StoreRole) -> None:
        """Check the file, become its writer if this process may, open the read side.

        Raises `StoreError` for a store that must not be touched (a directory,
        a newer Gloss's) or, for a reading command, one that needs repair."""
        self.role = role
        thorough = role is StoreRole.INDEX or self.check_marker.exists()
        check = full_check if thorough else inspect
        found = await asyncio.to_thread(check, self.db_path, SCHEMA_VERSION)
        passing: StoreError | None = None
        if found is not None and not found.kind.repairable:
            if found.kind in (StoreProblemKind.NEWER, StoreProblemKind.DIRECTORY):
                raise found
            passing, found = found, None  # a full or read-only disk: reads may still work
        elif found is not None and role is StoreRole.READ:
            raise found
        if await self._lock_now():
            if found is not None:
                self._moved_aside(await asyncio.to_thread(move_aside, found))
            await self._open_writer()
            if self.writing.is_set() and thorough:
                self.check_marker.unlink(missing_ok=True)  # checked, or rebuilt
        elif found is not None:
            # Another process writes it (and repairs it), or no one can here.
            self.problem = found
        if not self.writing.is_set() and self.problem is None:
            self.problem = passing
        await self._open_reads()

    async def take_over(self) -> bool:
        """Wait (a thread blocked in flock) until the writer of this store stops, then
        write it. True once writing; False if the store cannot be written."""
        if self.writing.is_set():
            return True
        await self.lock.acquire(self.role.value)
        before = self.holder
        self.holder = None
        found = await asyncio.to_thread(inspect, self.db_path, SCHEMA_VERSION)
        if found is not None and found.kind.repairable:
            self._moved_aside(await asyncio.to_thread(move_aside, found))
        elif found is not None:
            self.lock.release()
            self.problem = found
            self._tell(found.message, True)
            return False
        await self._open_writer()
        if self._reads_are_stale():
            await self._reopen_reads()
        if self.writing.is_set():
            if before is not None:
                self._tell(f"Gloss now writes {self.db_path}: {before.describe()} stopped", False)
            return True
        return False

    async def retry_writer(self) -> bool:
        """Try again to write a store that could not be opened for writing (a full disk).
        True once writing; False if still not (`holder` says if another process now does)."""
        if self.writing.is_set():
            return True
        if not await self._lock_now():
            return False
        await self._open_writer()
        if not self.writing.is_set():
            return False
        await self._reopen_reads()
        self._tell(f"Gloss is writing {self.db_path} again", False)
        return True

    async def current_reads(self) -> Store:
        """The read side. While another process writes, a stand-in for a store it had not
        yet made, or a connection to a file it has since moved aside, is swapped for the
        store as it is now (one stat per read)."""
        if not self.writing.is_set() and self._reads_are_stale():
            async with self._reopening:
                if self._reads_are_stale():
                    await self._reopen_reads()
        assert self.reads is not None
        return self.reads

    def _reads_are_stale(self) -> bool:
        if self.reads is None:
            return True
        try:
            inode = self.db_path.stat().st_ino
        except OSError:
            return False  # gone (being replaced): keep what is open until it is back
        return self._reads_stand_in or inode != self._reads_inode

    def status(self) -> StoreStatus:
        if self.writing.is_set():
            problem = self.writer.problem
            mode = "stalled" if problem is not None else "writing"
            return StoreStatus(
                str(self.db_path),
                mode,
                problem=problem.message if problem else None,
                notices=tuple(self.notices),
            )
        if self.holder is not None:
            return StoreStatus(
                str(self.db_path),
                "reading",
                writer_pid=self.holder.pid,
                problem=self.problem.message if self.problem else None,
                notices=tuple(self.notices),
            )
        if self.problem is not None and self.problem.kind.passing:
            mode = "stalled"  # a full disk at open: tried again (see Engine.start)
        else:
            mode = "unavailable" if self._reads_stand_in else "read-only"
        return StoreStatus(
            str(self.db_path),
            mode,
            problem=self.problem.message if self.problem else None,
            notices=tuple(self.notices),
        )

    def why_not_writing(self) -> str | None:
        """A line for the user when this process does not write the store."""
        if self.writing.is_set():
            return None
        if self.holder is not None:
            return f"{self.holder.describe()} is writing {self.db_path}"
        if self.problem is not None:
            return self.problem.summary
        return f"{self.db_path} is not open for writing"

    async def close_reads(self) -> None:
        if self.reads is not None:
            reads, self.reads = self.reads, None
            await reads.close()

    async def close(self) -> None:
        """After the writer stopped: the read side (if still open), then the lock."""
        await self.close_reads()
        self.lock.release()
        self.writing.clear()

    # --- the steps --------------------------------------------------------

    async def _lock_now(self) -> bool:
        """Take the writer lock if it is free; otherwise note who holds it."""
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            if self.lock.try_acquire(self.role.value):
                return True
        except OSError as exc:
            self.problem = classify(exc, self.db_path)
            return False
        self.holder = self.lock.holder()
        return False

    async def _open_writer(self) -> None:
        for attempt in (1, 2):
            try:
                await self.writer.start()
            except StoreError as exc:
                if exc.kind.repairable and attempt == 1 and self.role is not StoreRole.READ:
                    # Found only by opening it (a page the quick look did not read).
                    self._moved_aside(await asyncio.to_thread(move_aside, exc))
                    continue
                self.lock.release()
                if exc.kind in (StoreProblemKind.NEWER, StoreProblemKind.DIRECTORY) or (
                    exc.kind.repairable
                ):
                    raise
                self.problem = exc
                return
            self.problem = None
            self.writing.set()
            return

    async def _open_reads(self) -> None:
        if not self.db_path.is_file():
            # Another process holds the lock and has not made it yet, or it
            # cannot be made here (a read-only directory).
            self.reads = await Store.empty(self.prompt_version)
            self._reads_stand_in = True
            return
        try:
            inode = self.db_path.stat().st_ino
            self.reads = await Store.open(self.db_path, self.prompt_version)
            self._reads_stand_in = False
            self._reads_inode = inode
        except (sqlite3.Error, OSError) as exc:
            problem = classify(exc, self.db_path)
            if problem.kind in (StoreProblemKind.NEWER, StoreProblemKind.DIRECTORY):
                raise problem from exc
            self.problem = self.problem or problem
            self.reads = await Store.empty(self.prompt_version)
            self._reads_stand_in = True

    async def _reopen_reads(self) -> None:
        old, self.reads = self.reads, None
        if old is not None:
            await old.close()
        await self._open_reads()

    def _moved_aside(self, moved: MovedAside) -> None:
        message = moved.message
        log.info("%s", message)
        self.notices.append(message)
        self._tell(message, True)

    def read_failed(self, exc: Exception) -> None:
        """A read met an error of the store's file (damaged since it was opened): told once,
        shown in the status; a query's own error is not the store's and is raised."""
        if not is_store_error(exc):
            raise exc
        problem = classify(exc, self.db_path)
        log.info("reading %s failed: %s", self.db_path, exc)
        if self.problem is not None and self.problem.kind is problem.kind:
            return
        self.problem = problem
        self._damage_seen(problem)
        self._tell(problem.message, True)

    def _damage_seen(self, problem: StoreError) -> None:
        if problem.kind.repairable:
            with contextlib.suppress(OSError):
                self.check_marker.touch()
            if self.on_damage is not None:
                self.on_damage(problem)

    async def rebuild(self, problem: StoreError) -> None:
        """While writing: move the damaged store aside and go on with a fresh one (the
        writer swaps files between batches; reads reopen on the new file)."""
        moved = await self.writer.replace_store(lambda: move_aside(problem))
        self.problem = None
        self.check_marker.unlink(missing_ok=True)
        await self._reopen_reads()
        self._moved_aside(moved)

    def _writer_problem(self, problem: StoreError | None) -> None:
        if problem is not None:
            self._damage_seen(problem)
        if problem is None:
            self._tell(f"Gloss is writing {self.db_path} again", False)
        else:
            self._tell(problem.message, True)

    def _tell(self, message: str, is_problem: bool) -> None:
        for listener in self._listeners:
            try:
                listener(message, is_problem)
            except Exception:
                log.exception("a store listener failed")
