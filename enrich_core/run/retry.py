"""Spans that failed wait before they are tried again: exponential backoff up to a cap.

A span no tier could gloss is retried after `base_s * 2**(attempts-1)` seconds,
at most `max_s`. The attempt count and the time of the last try live in the
store (the `failures` table), so the schedule survives restarts: a restart does
not hammer a host that was failing. Waiting is one timer for the earliest due
span, woken early when a new span is deferred; nothing polls.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass

from enrich_core.run.scheduler import SpanRef


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float = 30.0
    max_s: float = 3600.0

    def delay(self, attempts: int) -> float:
        return float(min(self.max_s, self.base_s * 2 ** max(0, attempts - 1)))


class RetryQueue:
    def __init__(
        self,
        policy: RetryPolicy,
        submit: Callable[[SpanRef], object],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy
        self._submit = submit
        self._clock = clock
        self._heap: list[tuple[float, int, SpanRef]] = []
        self._due: dict[str, float] = {}  # hash -> when
        self._seq = 0
        self._changed = asyncio.Event()

    def defer(self, ref: SpanRef, attempts: int, last_try: float) -> bool:
        """Hold the span until its backoff has passed; False if it is already due."""
        due = last_try + self.policy.delay(attempts)
        if due <= self._clock():
            return False
        self._due[ref.content_hash] = due
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, ref))
        self._changed.set()
        return True

    def due_in(self, content_hash: str) -> float | None:
        due = self._due.get(content_hash)
        return None if due is None else max(0.0, due - self._clock())

    @property
    def waiting(self) -> int:
        return len(self._due)

    def release_due(self) -> int:
        """Hand every span whose time has come to the queue. How many."""
        now = self._clock()
        released = 0
        while self._heap and self._heap[0][0] <= now:
            due, _, ref = heapq.heappop(self._heap)
            if self._due.get(ref.content_hash) == due:
                del self._due[ref.content_hash]
                self._submit(ref)
                released += 1
        return released

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.release_due()
            self._changed.clear()
            wait = self._heap[0][0] - self._clock() if self._heap else None
            waiters = [
                asyncio.ensure_future(self._changed.wait()),
                asyncio.ensure_future(stop.wait()),
            ]
            try:
                await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
