"""One workspace's work queue: which of its spans is glossed next.

One queue per priority class, highest first: a hover asked for a span with no
gloss; spans of documents the user edited; files changed on disk (most recent
first); the backlog in file order (never shuffled, so prompts, caches and the
database see locality); last, spans whose only gloss was written by an older
prompt (re-glossed lazily, most recently touched files first). Work is keyed by
content hash: the same text is never glossed twice at once, and asking again
at a higher priority promotes it.

Strict priority would let a steady stream of edits or disk changes starve the
backlog forever, so a class that has been passed over `SHARE_EVERY` picks in a
row while it had work gets the next pick: the lower classes keep a guaranteed
small share. A hover is never passed over for that (a person is waiting).

The scheduler does not run anything: `WorkPool` workers call `peek()` and
`pop()` across every workspace's scheduler, and `on_work` tells the pool that
something was queued. Queue entries are small references, not span text: a
backlog of 100,000 spans must not hold 100,000 function bodies in memory.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

# A waiting class gets one pick in every SHARE_EVERY + 1 while higher classes
# have work: enough to keep the backlog moving, little enough that an edited
# span waits at most one extra completion, and only rarely.
SHARE_EVERY = 8


class Priority(IntEnum):
    HOVER = 0
    EDITED = 1
    DISK = 2
    BACKLOG = 3
    REFRESH = 4  # glossed, but by an older prompt version


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
        self._where: dict[str, str] = {}  # queued hash -> the path it was queued for
        self._by_path: dict[str, set[str]] = {}  # path -> queued hashes it holds
        self._counts: dict[Priority, int] = {p: 0 for p in Priority}
        self._passed_over: dict[Priority, int] = {p: 0 for p in Priority}
        self._in_flight: set[str] = set()
        self._seq = itertools.count()
        self._idle = asyncio.Event()
        self._idle.set()
        self.on_work: Callable[[], None] | None = None  # set by the pool that drains this

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
        self._unindex(h)
        self._where[h] = ref.path
        self._by_path.setdefault(ref.path, set()).add(h)
        seq = next(self._seq)
        # Disk changes: the most recent first, so a later event sorts earlier.
        order = -seq if priority is Priority.DISK else seq
        heapq.heappush(self._heaps[priority], _Entry(order, ref))
        self._idle.clear()
        if self.on_work is not None:
            self.on_work()
        return True

    def peek(self) -> Priority | None:
        """The class the next `pop()` takes from, or None when nothing is queued."""
        first: Priority | None = None
        for p in Priority:
            if not self._counts[p]:
                continue
            if first is None:
                if p is Priority.HOVER:
                    return p  # a person is waiting: never passed over
                first = p
            elif self._passed_over[p] >= SHARE_EVERY:
                return p  # a lower class due its share
        return first

    def pop(self) -> tuple[Priority, SpanRef] | None:
        """Take the next span (now in flight until `done`), or None when nothing is queued."""
        priority = self.peek()
        if priority is None:
            return None
        heap = self._heaps[priority]
        while True:
            entry = heapq.heappop(heap)
            # A promoted span leaves its old, lower entry behind: skip it.
            if self._best.get(entry.ref.content_hash) is priority:
                break
        del self._best[entry.ref.content_hash]
        self._unindex(entry.ref.content_hash)
        self._counts[priority] -= 1
        self._passed_over[priority] = 0
        for p in Priority:
            if p > priority and self._counts[p]:
                self._passed_over[p] += 1
            elif p > priority:
                self._passed_over[p] = 0
        self._in_flight.add(entry.ref.content_hash)
        return priority, entry.ref

    def queued_in(self, path: str) -> set[str]:
        """Hashes queued for spans of this file."""
        return set(self._by_path.get(path, ()))

    def forget(self, path: str, hashes: set[str]) -> int:
        """Drop queued spans of this file whose text is gone: the backend's time goes
        to the newer text. Their heap entries are skipped when they surface."""
        dropped = 0
        for h in hashes & self._by_path.get(path, set()):
            prio = self._best.pop(h)
            self._counts[prio] -= 1
            self._unindex(h)
            dropped += 1
        if dropped and not self._best and not self._in_flight:
            self._idle.set()
        return dropped

    def forget_file(self, path: str) -> set[str]:
        """Drop every queued span of a file that is gone; the hashes dropped."""
        hashes = self.queued_in(path)
        self.forget(path, hashes)
        return hashes

    def hand_over(self, ref: SpanRef, priority: Priority) -> None:
        """A span in flight whose file went: its text, shared with another file, is
        queued again for that file (`ref`). Queued before it leaves the in-flight
        set, so the queue never looks idle in between."""
        self._in_flight.discard(ref.content_hash)
        if not self.submit(ref, priority) and not self._best and not self._in_flight:
            self._idle.set()

    def _unindex(self, content_hash: str) -> None:
        path = self._where.pop(content_hash, None)
        if path is None:
            return
        held = self._by_path[path]
        held.discard(content_hash)
        if not held:
            del self._by_path[path]

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
        """Queued spans of this workspace ahead of this one (0 = next), or None if not queued.

        Costs the size of the higher classes plus its own class: cheap for the
        hover and edit classes, which are the ones a hover asks about. It
        counts strict priority; the backlog's share can add a pick or two.
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
