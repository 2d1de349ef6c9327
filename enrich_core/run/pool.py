"""What one process shares between its workspaces: the backends, the GPU watch and the workers.

A host's `max_concurrency` is a cap on the host, not on a workspace: two
workspace folders that use the same backend (the same definition) share one
client, one slot limit and one circuit breaker, so together they never have
more requests in flight than the cap allows.

The workers (as many as the shared backends' total concurrency: more would
only queue at a slot limit) take work from every attached workspace's
scheduler: the most urgent class first, and between workspaces with work of
the same class, the one served least recently. So a huge folder's backlog
and a small folder's backlog drain side by side, and an edit in either goes
before both backlogs. Nothing here polls: a scheduler's `on_work` wakes one
idle worker.

A resting host must not hold up the other folders. Two rules keep it so:
- a workspace never has more of its spans being glossed than its own hosts'
  total concurrency (`_caps`): more would only queue at their slot limits,
  and it bounds how many spans a resting host can hold waiting;
- a worker whose span waits out a resting host (the breaker tells it,
  `waiting_listener`) is stood in for by another worker until it goes on, so
  the waiters of one folder's host never take another folder's workers.
A folder alone behaves as before: its cap is the pool's worker count, so the
stand-ins find nothing of its work to take while its spans wait.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import itertools
import logging
from collections.abc import Iterable, Mapping
from typing import Protocol

from enrich_core.config import BackendConfig, GpuConfig
from enrich_core.llm.backend import Backend
from enrich_core.llm.breaker import Breaker, waiting_listener
from enrich_core.llm.factory import make_backend
from enrich_core.run.gpu import GpuMonitor
from enrich_core.run.gpu_watch import GpuWatch
from enrich_core.run.scheduler import Priority, Scheduler, SpanRef

log = logging.getLogger(__name__)


class WorkSource(Protocol):
    """A workspace as the pool sees it (the engine)."""

    scheduler: Scheduler

    def used_backends(self) -> Iterable[Backend]:
        """The backends its tiers can send to: what its work can occupy."""
        ...

    async def gloss_one(self, ref: SpanRef, priority: Priority) -> None:
        """Gloss one popped span and hand the result to the writer; always `done()`s it."""
        ...


class WorkPool:
    def __init__(self, gpu: GpuMonitor | None = None, gpu_limits: GpuConfig | None = None):
        self.gpu = gpu or GpuMonitor()
        # One GPU, one set of limits: the first workspace's, unless given here.
        self._gpu_limits_given = gpu_limits is not None
        self.gpu_watch = GpuWatch(self.gpu, gpu_limits or GpuConfig(), {})
        self._shared: dict[BackendConfig, Backend] = {}
        self._handed_out: dict[int, Backend] = {}  # id -> every backend in use, shared or given
        self._breakers: dict[int, Breaker] = {}  # by backend identity
        self._last_served: dict[WorkSource, int] = {}  # attached sources -> tick of last pick
        self._tick = itertools.count(1)
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._workers: set[asyncio.Task[None]] = set()
        self._busy: dict[asyncio.Task[None], WorkSource] = {}
        self._holding: dict[WorkSource, int] = {}  # its spans being glossed, waiting ones too
        self._caps: dict[WorkSource, int] = {}  # its hosts' total concurrency
        self._resting: set[asyncio.Task[None]] = set()  # workers whose span waits on a breaker
        self._target = 0  # workers wanted: worker_count() as of the last attach/detach
        self._stopping = asyncio.Event()
        self._gpu_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Idempotent: every engine calls it once its store is open."""
        if self._gpu_task is not None or self._stopping.is_set():
            return
        # One reading before any work, so every gloss sees the GPU from its start.
        await self.gpu_watch.sample_once()
        if self._gpu_task is not None:
            return  # another engine started it while this one sampled
        self._gpu_task = asyncio.create_task(
            self.gpu_watch.run(self._stopping), name="gloss-gpu-watch"
        )

    async def stop(self) -> None:
        self._stopping.set()
        if self._gpu_task is not None:
            await self._gpu_task
            self._gpu_task = None
        await self._cancel(list(self._workers))
        for backend in self._handed_out.values():
            await backend.aclose()
        self._handed_out.clear()
        self._shared.clear()
        self.gpu.close()

    # --- backends ----------------------------------------------------------

    def backends_for(
        self, configs: Iterable[BackendConfig], given: Mapping[str, Backend] | None = None
    ) -> dict[str, Backend]:
        """A workspace's backends by its names: shared with any workspace that defines
        the same backend identically; `given` ones (tests, benches) are used as they are."""
        out: dict[str, Backend] = dict(given or {})
        for config in configs:
            if config.name in out:
                continue
            backend = self._shared.get(config)
            if backend is None:
                backend = self._shared[config] = make_backend(config)
            out[config.name] = backend
        for name, backend in out.items():
            if id(backend) not in self._handed_out:
                self._handed_out[id(backend)] = backend
                self.gpu_watch.add(f"{name} ({backend.config.url})", backend)
        return out

    def breakers_for(self, backends: Mapping[str, Backend]) -> dict[str, Breaker]:
        """One breaker per host, whichever workspace's request tripped it."""
        out: dict[str, Breaker] = {}
        for name, backend in backends.items():
            breaker = self._breakers.get(id(backend))
            if breaker is None:
                config = backend.config
                breaker = Breaker(
                    config.breaker_threshold, config.breaker_cooldown_s, config.breaker_probes
                )
                self._breakers[id(backend)] = breaker
            out[name] = breaker
        return out

    # --- workspaces --------------------------------------------------------

    def attach(self, source: WorkSource, gpu_limits: GpuConfig | None = None) -> None:
        if gpu_limits is not None and not self._gpu_limits_given and not self._last_served:
            self.gpu_watch.limits = gpu_limits
        self._last_served[source] = 0
        hosts = {id(b): b for b in source.used_backends()}
        self._caps[source] = max(1, sum(b.config.max_concurrency for b in hosts.values()))
        source.scheduler.on_work = self._wake_one
        self._resize()
        for _ in range(source.scheduler.queued):
            self._wake_one()

    async def detach(self, source: WorkSource) -> None:
        """Stop taking its work and end the glosses of its spans in progress."""
        if self._last_served.pop(source, None) is None:
            return
        source.scheduler.on_work = None
        await self._cancel([t for t, s in self._busy.items() if s is source])
        self._caps.pop(source, None)
        self._holding.pop(source, None)
        self._resize()

    async def wait_idle(self) -> None:
        """Until no attached workspace has spans queued or being glossed: background work
        that uses the same hosts (embedding glosses, run/embed_jobs.py) waits for this,
        so glossing goes first."""
        while True:
            busy = next(
                (s for s in self._last_served if s.scheduler.queued or s.scheduler.in_flight),
                None,
            )
            if busy is None:
                return
            await busy.scheduler.wait_idle()

    def worker_count(self) -> int:
        """The attached workspaces' backends' total concurrency, each host counted once."""
        hosts = {id(b): b for s in self._last_served for b in s.used_backends()}
        return sum(b.config.max_concurrency for b in hosts.values())

    def _resize(self) -> None:
        self._target = 0 if self._stopping.is_set() else self.worker_count()
        wanted = self._wanted()
        while len(self._workers) < wanted:
            task = asyncio.create_task(self._work(), name=f"gloss-worker-{len(self._workers)}")
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)
        # Surplus workers leave by themselves at their next pick (see `_work`).
        for _ in range(len(self._workers) - wanted):
            self._wake_one()

    def _wanted(self) -> int:
        """The target, plus a stand-in for each worker whose span waits on a breaker."""
        return self._target + len(self._resting) if self._target else 0

    async def _cancel(self, tasks: list[asyncio.Task[None]]) -> None:
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass

    # --- workers -----------------------------------------------------------

    async def _work(self) -> None:
        me = asyncio.current_task()
        assert me is not None
        waiting_listener.set(functools.partial(self._span_waiting, me))
        while True:
            picked = await self._next(me)
            if picked is None:
                return  # surplus after a workspace left
            source, priority, ref = picked
            self._busy[me] = source
            self._holding[source] = self._holding.get(source, 0) + 1
            try:
                await source.gloss_one(ref, priority)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("glossing %s in %s failed unexpectedly", ref.qualname, ref.path)
            finally:
                self._busy.pop(me, None)
                if source in self._holding:
                    self._holding[source] -= 1

    def _span_waiting(self, worker: asyncio.Task[None], waiting: bool) -> None:
        """The breaker's word: this worker's span starts (or stops) waiting for a host to
        take a probe again. Meanwhile another worker stands in for it, for other work."""
        if waiting:
            if worker in self._busy and worker not in self._resting:
                self._resting.add(worker)
                self._resize()
        elif worker in self._resting:
            self._resting.discard(worker)
            self._wake_one()  # a worker too many now: an idle one leaves

    async def _next(self, me: asyncio.Task[None]) -> tuple[WorkSource, Priority, SpanRef] | None:
        while True:
            if len(self._workers) > self._wanted():
                self._workers.discard(me)  # at once, so only the surplus leaves
                self._wake_one()  # the wake-up it took may have been for work
                return None
            picked = self._pick()
            if picked is not None:
                return picked
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                # Hand a wake-up this worker took but cannot use to another one.
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()
                raise

    def _pick(self) -> tuple[WorkSource, Priority, SpanRef] | None:
        best: WorkSource | None = None
        best_key: tuple[Priority, int] | None = None
        for source, served in self._last_served.items():
            if self._holding.get(source, 0) >= self._caps[source]:
                continue  # its hosts are full, or its spans wait out a resting host
            priority = source.scheduler.peek()
            if priority is None:
                continue
            key = (priority, served)  # most urgent class, then longest unserved
            if best_key is None or key < best_key:
                best, best_key = source, key
        if best is None:
            return None
        popped = best.scheduler.pop()
        assert popped is not None
        self._last_served[best] = next(self._tick)
        return best, popped[0], popped[1]

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
