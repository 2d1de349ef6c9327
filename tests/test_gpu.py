"""GpuMonitor: a fake NVML module at the seam, the real pynvml here, and none at all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from enrich_core.run.gpu import GpuMonitor

MIB = 2**20


class NVMLError(Exception):
    """What pynvml raises (its NVMLError subclasses), for the fake."""


class FakeNVML:
    """The pynvml functions GpuMonitor uses, over a list of scripted devices.

    A device is a dict: name, used/total (bytes), util (%), temp (C), power
    (milliwatts, as NVML reports it). A value that is an exception is raised
    when read, the way NVML answers for a sensor the board lacks.
    """

    NVML_TEMPERATURE_GPU = 0

    def __init__(self, devices: list[dict[str, Any]], init_error: Exception | None = None) -> None:
        self.devices = devices
        self.init_error = init_error
        self.inits = 0
        self.shutdowns = 0

    @staticmethod
    def _read(value: Any) -> Any:
        if isinstance(value, BaseException):
            raise value
        return value

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise self.init_error
        self.inits += 1

    def nvmlShutdown(self) -> None:
        self.shutdowns += 1

    def nvmlDeviceGetCount(self) -> int:
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> dict[str, Any]:
        return self.devices[index]

    def nvmlDeviceGetName(self, handle: dict[str, Any]) -> Any:
        return self._read(handle["name"])

    def nvmlDeviceGetMemoryInfo(self, handle: dict[str, Any]) -> SimpleNamespace:
        used, total = self._read(handle["used"]), self._read(handle["total"])
        return SimpleNamespace(used=used, total=total, free=total - used)

    def nvmlDeviceGetUtilizationRates(self, handle: dict[str, Any]) -> SimpleNamespace:
        return SimpleNamespace(gpu=self._read(handle["util"]), memory=0)

    def nvmlDeviceGetTemperature(self, handle: dict[str, Any], sensor: int) -> int:
        assert sensor == self.NVML_TEMPERATURE_GPU
        return int(self._read(handle["temp"]))

    def nvmlDeviceGetPowerUsage(self, handle: dict[str, Any]) -> int:
        return int(self._read(handle["power"]))


def device(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": b"NVIDIA GeForce RTX 4090",
        "used": 6144 * MIB,
        "total": 24564 * MIB,
        "util": 87,
        "temp": 71,
        "power": 312_500,
    }
    base.update(overrides)
    return base


def monitor(fake: FakeNVML) -> GpuMonitor:
    return GpuMonitor(fake)  # type: ignore[arg-type]  # duck-typed NVML module


def test_devices_are_reported_in_mb_percent_celsius_and_watts() -> None:
    fake = FakeNVML(
        [
            device(),
            device(
                name="NVIDIA RTX A2000",
                used=512 * MIB,
                total=6138 * MIB,
                util=3,
                temp=40,
                power=18_250,
            ),
        ]
    )
    gpu = monitor(fake)
    status = gpu.status().to_json()
    assert status["available"] is True
    first, second = status["devices"]
    assert first == {
        "index": 0,
        "name": "NVIDIA GeForce RTX 4090",  # bytes from old pynvml are decoded
        "memory_used_mb": 6144.0,
        "memory_total_mb": 24564.0,
        "utilization_pct": 87.0,
        "temperature_c": 71.0,
        "power_w": 312.5,
    }
    assert second["index"] == 1
    assert second["name"] == "NVIDIA RTX A2000"  # str names (new pynvml) pass through
    assert second["memory_used_mb"] == 512.0 and second["memory_total_mb"] == 6138.0
    assert second["power_w"] == pytest.approx(18.25)

    samples = gpu.sample()
    assert [d.index for d in samples] == [0, 1]
    assert fake.inits == 1  # initialised once, not per sample
    gpu.close()
    assert fake.shutdowns == 1


def test_a_missing_sensor_gives_none_for_it_only() -> None:
    fake = FakeNVML(
        [
            device(power=NVMLError("Not Supported")),
            device(util=NVMLError("Not Supported"), temp=NVMLError("Not Supported")),
        ]
    )
    status = monitor(fake).status().to_json()
    assert status["available"] is True
    laptop, other = status["devices"]
    assert laptop["power_w"] is None
    assert laptop["utilization_pct"] == 87.0 and laptop["temperature_c"] == 71.0
    assert laptop["memory_used_mb"] == 6144.0
    assert other["utilization_pct"] is None and other["temperature_c"] is None
    assert other["power_w"] == 312.5


def test_nvml_init_failing_means_no_gpu_with_the_reason() -> None:
    fake = FakeNVML([device()], init_error=NVMLError("Driver Not Loaded"))
    gpu = monitor(fake)
    status = gpu.status().to_json()
    assert status["available"] is False
    assert "no GPU" in status["reason"]
    assert "Driver Not Loaded" in status["reason"]
    assert "devices" not in status
    assert gpu.sample() == []
    gpu.close()  # nothing to shut down, and no error
    assert fake.shutdowns == 0


def test_zero_devices_means_no_gpu() -> None:
    gpu = monitor(FakeNVML([]))
    status = gpu.status().to_json()
    assert status == {"available": False, "reason": status["reason"]}
    assert "no GPU" in status["reason"]
    assert "no devices" in status["reason"]
    gpu.close()


def test_every_successful_init_is_shut_down_even_without_devices() -> None:
    fake = FakeNVML([])
    gpu = monitor(fake)
    assert gpu.status().available is False
    gpu.close()
    assert fake.shutdowns == fake.inits == 1


def test_a_query_failing_after_init_is_reported_not_raised() -> None:
    fake = FakeNVML([device(used=NVMLError("GPU is lost"))])
    status = monitor(fake).status().to_json()
    assert status["available"] is False
    assert "GPU is lost" in status["reason"]


def test_the_real_pynvml_here_says_no_gpu_and_does_not_raise() -> None:
    gpu = GpuMonitor()
    try:
        status = gpu.status().to_json()
    finally:
        gpu.close()
    if status["available"]:
        pytest.skip("this machine has an NVIDIA GPU")
    assert isinstance(status["reason"], str) and status["reason"]
    assert "no GPU" in status["reason"]


def test_without_pynvml_there_is_no_gpu_and_the_reason_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # what `import` sees when it is absent
    gpu = GpuMonitor()
    status = gpu.status().to_json()
    gpu.close()
    assert status == {
        "available": False,
        "reason": "no GPU: pynvml is not installed (Gloss's `gpu` extra, for NVIDIA GPU facts)",
    }


# `gloss status` in a subprocess, as a user runs it: with the real pynvml (the dev
# extra installs it; on this machine it finds no NVML library) and without pynvml
# (the default install), blocked before the CLI starts.
WITHOUT_PYNVML = (
    "import sys; sys.modules['pynvml'] = None; "
    "from server.cli.main import main; raise SystemExit(main(sys.argv[1:]))"
)
WITH_PYNVML = "import sys; from server.cli.main import main; raise SystemExit(main(sys.argv[1:]))"


def _gloss_status(code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result


def _workspace(tmp_path: Path) -> Path:
    (tmp_path / "shapes.py").write_text("def area(w, h):\n    return w * h\n")
    return tmp_path


@pytest.mark.parametrize("code", [WITH_PYNVML, WITHOUT_PYNVML], ids=["pynvml", "no-pynvml"])
def test_status_says_gpu_none_once_quietly(code: str, tmp_path: Path) -> None:
    if code == WITH_PYNVML and GpuMonitor().status().available:
        pytest.skip("this machine has an NVIDIA GPU")
    ws = _workspace(tmp_path)
    text = _gloss_status(code, "status", str(ws), cwd=ws)
    gpu_lines = [line for line in text.stdout.splitlines() if line.startswith("gpu")]
    assert gpu_lines == ["gpu: none"], text.stdout
    assert "nvml" not in text.stdout.replace(str(ws), "").lower()
    assert text.stderr == ""

    as_json = _gloss_status(code, "status", str(ws), "--json", cwd=ws)
    gpu = json.loads(as_json.stdout)["gpu"]
    assert gpu["available"] is False and gpu["reason"].startswith("no GPU: ")
    assert as_json.stderr == ""

    verbose = _gloss_status(code, "-v", "status", str(ws), cwd=ws)
    assert [line for line in verbose.stdout.splitlines() if line.startswith("gpu")] == ["gpu: none"]
    assert f"gpu: none: {gpu['reason']}" in verbose.stderr
