"""Who writes a store: one process at a time, by an exclusive lock on a file beside it.

Two editor windows on one folder start two servers; `gloss index` may run
while one serves. SQLite would let both write, but both would also send the
same spans to the models. So the process holding `index.db.lock`
(`fcntl.flock`, released by the kernel when the process ends, even by kill -9)
is the store's writer and glosser; any other reads the same WAL store and
says who writes it. The holder writes its pid and role into the file so the
others can name it.

A process that wants to take over waits in a thread blocked in
flock(LOCK_EX) — no polling. A blocked flock cannot be interrupted, so a wait
that is given up leaves its thread blocked; when the lock frees, that thread
releases it at once (and, being a daemon, never keeps the process alive).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# flock's answers on a file system that has no locks to give.
NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


@dataclass(frozen=True, slots=True)
class LockHolder:
    """The process that writes the store, as it wrote itself into the lock file."""

    pid: int | None
    role: str  # "serve", "index", or "read" (a CLI command bringing the store up to date)

    def describe(self) -> str:
        who = f"gloss {self.role}" if self.role in ("serve", "index") else "another Gloss"
        return f"{who} (pid {self.pid})" if self.pid else who


class WriterLock:
    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self._fd: int | None = None
        self._waiter: _Waiter | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self, role: str) -> bool:
        """Take the lock if no other process holds it. Raises OSError if the file cannot
        be made (a read-only directory): then no one can write here anyway."""
        if self._fd is not None:
            return True
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except OSError as exc:
            if exc.errno not in NO_LOCKS:
                os.close(fd)
                raise
            # A file system without locks (some network mounts): Gloss writes as it
            # did before there was a lock; two processes could then both gloss.
            log.warning("cannot lock %s (%s): not guarding against a second writer", self.path, exc)
        except BaseException:
            os.close(fd)
            raise
        self._took(fd, role)
        return True

    def holder(self) -> LockHolder:
        """Who holds it, as written in the file (best effort: it may be mid-write)."""
        try:
            words = self.path.read_text(encoding="utf-8", errors="replace").split()
        except OSError:
            return LockHolder(None, "")
        pid = int(words[0]) if words and words[0].isdigit() else None
        return LockHolder(pid, words[1] if len(words) > 1 else "")

    async def acquire(self, role: str) -> None:
        """Wait until the lock is ours (a thread blocked in flock, see the module doc)."""
        if self._fd is not None:
            return
        loop = asyncio.get_running_loop()
        fd = self._open()
        waiter = _Waiter(fd, loop)
        self._waiter = waiter
        try:
            await waiter.future
        except BaseException:
            waiter.abandon()
            got = waiter.future
            if got.done() and not got.cancelled() and got.exception() is None:
                os.close(fd)  # won just as the wait was given up: let it go
            raise
        finally:
            self._waiter = None
        self._took(fd, role)

    def release(self) -> None:
        if self._waiter is not None:
            self._waiter.abandon()
            self._waiter = None
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
        # A read-only mount: an existing lock file still serves to see a holder.
        return os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)

    def _took(self, fd: int, role: str) -> None:
        self._fd = fd
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {role}\n".encode(), 0)


class _Waiter:
    """One blocking flock in a daemon thread, its outcome handed to the event loop."""

    def __init__(self, fd: int, loop: asyncio.AbstractEventLoop) -> None:
        self.fd = fd
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self._lock = threading.Lock()
        self._abandoned = False
        threading.Thread(target=self._wait, name="gloss-store-lock", daemon=True).start()

    def abandon(self) -> None:
        with self._lock:
            self._abandoned = True

    def _wait(self) -> None:
        error: OSError | None = None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError as exc:
            error = exc
        with self._lock:
            abandoned = self._abandoned
        if abandoned or error is not None:
            # Nobody wants it any more: let the next process have it at once.
            with contextlib.suppress(OSError):
                os.close(self.fd)
            if error is not None and not abandoned:
                self._hand(error)
            return
        self._hand(None)

    def _hand(self, error: OSError | None) -> None:
        def settle() -> None:
            if self.future.done():
                # Cancelled in the meantime: the lock is not wanted.
                if error is None:
                    with contextlib.suppress(OSError):
                        os.close(self.fd)
                return
            if error is None:
                self.future.set_result(None)
            else:
                self.future.set_exception(error)

        try:
            self.loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the loop is closed: the process is ending
            with contextlib.suppress(OSError):
                os.close(self.fd)
