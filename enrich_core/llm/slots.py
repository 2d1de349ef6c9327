"""A concurrency limit that can be lowered and raised while requests wait on it.

Like `asyncio.Semaphore`, but `limit` may change at run time: the GPU watch
lowers it for local backends when VRAM or temperature passes its limits, and
raises it back when they recover. Lowering never cancels a running request; it
only keeps new ones waiting until enough have finished. Waiting is on a
condition, never a poll.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class SlotLimit:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a slot limit is at least 1")
        self._limit = limit
        self.in_use = 0
        self._changed = asyncio.Condition()

    @property
    def limit(self) -> int:
        return self._limit

    async def set_limit(self, limit: int) -> None:
        async with self._changed:
            self._limit = max(1, limit)
            self._changed.notify_all()

    async def __aenter__(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_use < self._limit)
            self.in_use += 1

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        async with self._changed:
            self.in_use -= 1
            self._changed.notify()
