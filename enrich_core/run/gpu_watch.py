"""Watching the local GPU while glossing: peak VRAM per gloss, and backing off when hot or full.

Every `sample_interval_s` the NVML devices are read (in a thread: NVML calls
block). Each gloss in progress holds a `PeakTracker` that records the highest
VRAM use seen while it ran; it is stored with the gloss. When any device passes
`max_vram_fraction` or `max_temperature_c`, the concurrency of local backends
(embedded, or an HTTP host on a loopback address) is halved, sample after
sample down to 1, and given back one slot per sample once the device is
comfortably below both limits again. Remote hosts are never throttled by a
local GPU. Without a GPU this does nothing and says why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from urllib.parse import urlparse

from enrich_core.config import GpuConfig
from enrich_core.llm.backend import Backend
from enrich_core.llm.slots import SlotLimit
from enrich_core.records.status import GpuDevice, GpuStatus, GpuThrottle
from enrich_core.run.gpu import GpuMonitor

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
# Recovery needs a margin below the limits, or the limit would flap every sample.
VRAM_HYSTERESIS = 0.05
TEMPERATURE_HYSTERESIS_C = 5.0


@dataclass
class PeakTracker:
    peak_mb: float | None = None

    def see(self, used_mb: float) -> None:
        if self.peak_mb is None or used_mb > self.peak_mb:
            self.peak_mb = used_mb


def is_local(backend: Backend) -> bool:
    if backend.config.kind == "embedded":
        return True
    host = urlparse(backend.config.url).hostname or ""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


class GpuWatch:
    def __init__(
        self, monitor: GpuMonitor, limits: GpuConfig, backends: Mapping[str, Backend]
    ) -> None:
        self.monitor = monitor
        self.limits = limits
        self._local: dict[str, Backend] = {}
        for name, backend in backends.items():
            self.add(name, backend)
        self._tracker_objs: dict[int, PeakTracker] = {}
        self.devices: list[GpuDevice] = []
        self.throttled_reason: str | None = None

    def add(self, name: str, backend: Backend) -> None:
        """Watch one more backend (the pool adds them as workspaces attach)."""
        if is_local(backend) and _slots_of(backend) is not None:
            self._local[name] = backend

    @contextmanager
    def track(self) -> Iterator[PeakTracker]:
        """Record the peak VRAM seen while the block runs (None without a GPU)."""
        tracker = PeakTracker()
        key = id(tracker)
        self._tracker_objs[key] = tracker
        if self.devices:
            tracker.see(_used_mb(self.devices))
        try:
            yield tracker
        finally:
            self._tracker_objs.pop(key, None)

    async def sample_once(self) -> bool:
        """Read the devices, feed the trackers, adjust limits. False without a GPU."""
        self.devices = await asyncio.to_thread(self.monitor.sample)
        if not self.devices:
            return False
        used = _used_mb(self.devices)
        for tracker in self._tracker_objs.values():
            tracker.see(used)
        await self.apply_limits(self.devices)
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Sample until `stop` is set; a no-op when there is no GPU."""
        while not stop.is_set():
            if not await self.sample_once():
                log.info("GPU watch off: %s", self.monitor.reason or "no GPU")
                return
            try:
                async with asyncio.timeout(self.limits.sample_interval_s):
                    await stop.wait()
            except TimeoutError:
                pass  # the sampling period: a timer, not a poll for work

    async def apply_limits(self, devices: list[GpuDevice]) -> None:
        over = self._over_limits(devices, margin=False)
        comfortable = not self._over_limits(devices, margin=True)
        for name, backend in self._local.items():
            slots = _slots_of(backend)
            assert slots is not None
            cap = backend.config.max_concurrency
            if over:
                lowered = max(1, slots.limit // 2)
                if lowered < slots.limit:
                    log.warning("GPU %s: %s concurrency %d -> %d", over, name, slots.limit, lowered)
                await slots.set_limit(lowered)
            elif comfortable and slots.limit < cap:
                await slots.set_limit(slots.limit + 1)
        self.throttled_reason = over

    def _over_limits(self, devices: list[GpuDevice], *, margin: bool) -> str | None:
        vram_limit = self.limits.max_vram_fraction - (VRAM_HYSTERESIS if margin else 0.0)
        temp_limit = self.limits.max_temperature_c - (TEMPERATURE_HYSTERESIS_C if margin else 0.0)
        for d in devices:
            if d.memory_total_mb and d.memory_used_mb / d.memory_total_mb > vram_limit:
                share = d.memory_used_mb / d.memory_total_mb
                return f"device {d.index} VRAM {share:.0%} over {vram_limit:.0%}"
            if d.temperature_c is not None and d.temperature_c > temp_limit:
                return f"device {d.index} at {d.temperature_c:.0f} °C over {temp_limit:.0f} °C"
        return None

    def status(self) -> GpuStatus:
        out = self.monitor.status()
        if not out.available:
            return out
        limits = {name: _slots_of(b).limit for name, b in self._local.items()}  # type: ignore[union-attr]
        return replace(out, watch=GpuThrottle(self.throttled_reason, limits))


def _used_mb(devices: list[GpuDevice]) -> float:
    return sum(d.memory_used_mb for d in devices)


def _slots_of(backend: Backend) -> SlotLimit | None:
    slots = getattr(backend, "slots", None)
    return slots if isinstance(slots, SlotLimit) else None
