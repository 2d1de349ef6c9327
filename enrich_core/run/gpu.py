"""GPU facts from NVML (pynvml), when a local NVIDIA GPU exists.

pynvml is optional (Gloss's `gpu` extra). Without it, the NVML library, a
driver or a device this says so in plain words (`{"available": false,
"reason": ...}`), never raises and writes nothing to stderr: a machine without
an NVIDIA GPU is the common case, not a fault. The NVML module is a seam:
tests pass a fake with the same functions.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType
from typing import Any

from enrich_core.records.status import GpuDevice, GpuStatus


class GpuMonitor:
    def __init__(self, nvml: ModuleType | None = None) -> None:
        self._nvml = nvml
        self._ready = False
        self.reason: str | None = None

    def _init(self) -> Any:
        if self._ready:
            return self._nvml
        if self.reason is not None:
            return None
        try:
            nvml = self._nvml or _import_pynvml()
        except ImportError:
            self.reason = (
                "no GPU: pynvml is not installed (Gloss's `gpu` extra, for NVIDIA GPU facts)"
            )
            return None
        try:
            nvml.nvmlInit()
        except Exception as exc:  # pynvml raises NVMLError subclasses for every cause
            self.reason = f"no GPU: NVML is not available ({exc})"
            return None
        try:
            count = nvml.nvmlDeviceGetCount()
        except Exception as exc:
            count, self.reason = 0, f"no GPU: NVML cannot count devices ({exc})"
        if count == 0:
            self.reason = self.reason or "no GPU: NVML found no devices"
            _shutdown_quietly(nvml)  # every successful init gets its shutdown
            return None
        self._nvml = nvml
        self._ready = True
        return nvml

    def sample(self) -> list[GpuDevice]:
        nvml = self._init()
        if nvml is None:
            return []
        devices = []
        for i in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(i)
            name = nvml.nvmlDeviceGetName(handle)
            mem = nvml.nvmlDeviceGetMemoryInfo(handle)
            devices.append(
                GpuDevice(
                    index=i,
                    name=name.decode() if isinstance(name, bytes) else str(name),
                    memory_used_mb=mem.used / 2**20,
                    memory_total_mb=mem.total / 2**20,
                    utilization_pct=_optional(
                        lambda h=handle: nvml.nvmlDeviceGetUtilizationRates(h).gpu
                    ),
                    temperature_c=_optional(
                        lambda h=handle: nvml.nvmlDeviceGetTemperature(h, nvml.NVML_TEMPERATURE_GPU)
                    ),
                    power_w=_optional(lambda h=handle: nvml.nvmlDeviceGetPowerUsage(h) / 1000.0),
                )
            )
        return devices

    def status(self) -> GpuStatus:
        try:
            devices = self.sample()
        except Exception as exc:
            return GpuStatus.unavailable(f"NVML query failed: {exc}")
        if not devices:
            return GpuStatus.unavailable(self.reason or "no GPU")
        return GpuStatus(available=True, devices=tuple(devices))

    def close(self) -> None:
        if self._ready and self._nvml is not None:
            _shutdown_quietly(self._nvml)
            self._ready = False


def _shutdown_quietly(nvml: Any) -> None:
    try:
        nvml.nvmlShutdown()
    except Exception:
        pass  # nothing useful to do about a failing shutdown


def _import_pynvml() -> ModuleType:
    # The pynvml package now wraps nvidia-ml-py and warns on import; the
    # warning is for packagers, not for a user looking at a hover.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return importlib.import_module("pynvml")


def _optional(read: Any) -> float | None:
    # Consumer GPUs lack some sensors (power on laptops); a missing one is None.
    try:
        return float(read())
    except Exception:
        return None
