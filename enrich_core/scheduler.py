"""The work queue: which span is glossed next.

One queue per priority class, highest first: a hover asked for a span with no
gloss; spans of documents the user edited; files changed on disk (most recent
first); the backlog in file order (never shuffled, so prompts, caches and the
database see locality). Work is keyed by content hash: the same text is never
glossed twice at once, and asking again at a higher priority promotes it.
`get()` waits on a future per idle worker, like `asyncio.Queue`; nothing here
polls or sleeps. The engine runs exactly as many workers as the backends'
total concurrency, so new priority work waits for at most one completion.
Queue entries are small references, not span text: a backlog of 100,000
spans must not hold 100,000 function bodies in memory.
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import itertools
from dataclasses import dataclass, field
from enum import IntEnum


class Priority(IntEnum):
    HOVER = 0
    EDITED = 1
    DISK = 2
    BACKLOG = 3


@dataclass(frozen=True, slots=True)
class SpanRef:
    """Where to find a span's text again when its turn comes."""

    path: str
    qualname: str
    content_hash: str
    start_line: int


@dataclass(order=True, slots=True)
class _Entry:
    order: int
    ref: SpanRef = field(compare=False)


class Scheduler:
    def __init__(self) -> None:
        self._heaps: dict[Priority, list[_Entry]] = {p: [] for p in Priority}
        self._best: dict[str, Priority] = {}  # queued hash -> best priority asked for it
        self._counts: dict[Priority, int] = {p: 0 for p in Priority}
        self._in_flight: set[str] = set()
        self._seq = itertools.count()
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, ref: SpanRef, priority: Priority) -> bool:
        """Queue a span unless the same text is queued as high or in flight. True if queued."""
        h = ref.content_hash
        if h in self._in_flight:
            return False
        best = self._best.get(h)
        if best is not None and best <= priority:
            return False
        if best is not None:
            self._counts[best] -= 1
        self._counts[priority] += 1
        self._best[h] = priority
        seq = next(self._seq)
        # Disk changes: the most recent first, so a later event sorts earlier.
        order = -seq if priority is Priority.DISK else seq
        heapq.heappush(self._heaps[priority], _Entry(order, ref))
        self._idle.clear()
        self._wake_one()
        return True

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def get(self) -> tuple[Priority, SpanRef]:
        """The most urgent queued span; waits until there is one."""
        while True:
            popped = self._pop()
            if popped is not None:
                self._in_flight.add(popped[1].content_hash)
                return popped
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                # Hand a wake-up this worker took but cannot use to another one.
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()
                raise

    def _pop(self) -> tuple[Priority, SpanRef] | None:
        for priority, heap in self._heaps.items():
            while heap:
                entry = heapq.heappop(heap)
                # A promoted span leaves its old, lower entry behind: skip it.
                if self._best.get(entry.ref.content_hash) is priority:
                    del self._best[entry.ref.content_hash]
                    self._counts[priority] -= 1
                    return priority, entry.ref
        return None

    def done(self, content_hash: str) -> None:
        """The span's result is committed; the same text may be queued again."""
        self._in_flight.discard(content_hash)
        if not self._best and not self._in_flight:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Until nothing is queued or in flight."""
        await self._idle.wait()

    @property
    def queued(self) -> int:
        return len(self._best)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def queued_by_priority(self) -> dict[str, int]:
        return {p.name.lower(): n for p, n in self._counts.items()}

    def position(self, content_hash: str) -> int | None:
        """Queued spans ahead of this one (0 = next), or None if it is not queued.

        Costs the size of the higher classes plus its own class: cheap for the
        hover and edit classes, which are the ones a hover asks about.
        """
        prio = self._best.get(content_hash)
        if prio is None:
            return None
        ahead = sum(self._counts[p] for p in Priority if p < prio)
        heap = self._heaps[prio]
        mine = next((e for e in heap if e.ref.content_hash == content_hash), None)
        if mine is None:
            return None
        ahead += sum(1 for e in heap if e < mine and self._best.get(e.ref.content_hash) is prio)
        return ahead
