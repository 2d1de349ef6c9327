"""The GPU watch with a fake NVML: local backends back off when hot or full, and recover."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench.support.llm_server import LLMServer
from enrich_core.config import GpuConfig, parse_config
from enrich_core.llm.factory import make_backend
from enrich_core.run.engine import Engine
from enrich_core.run.gpu_watch import GpuWatch
from tests.test_gpu import MIB, FakeNVML, device
from tests.test_gpu import monitor as fake_monitor


def backends(url_local: str, url_remote: str) -> dict[str, Any]:
    config = parse_config(
        {
            "backends": [
                {"name": "local", "url": url_local, "max_concurrency": 8},
                {"name": "remote", "url": url_remote, "max_concurrency": 8},
            ],
            "tiers": [{"name": "t", "model": "m", "backends": ["local", "remote"]}],
        }
    )
    return {b.name: make_backend(b) for b in config.backends}


async def test_hot_gpu_halves_local_concurrency_and_recovers_one_slot_at_a_time() -> None:
    fake = FakeNVML([device(temp=70)])
    found = backends("http://127.0.0.1:11434", "http://gpu-box.example:8000")
    watch = GpuWatch(fake_monitor(fake), GpuConfig(max_temperature_c=85), found)
    local, remote = found["local"].slots, found["remote"].slots
    try:
        monitor = watch.monitor
        await watch.apply_limits(monitor.sample())
        assert local.limit == 8 and watch.throttled_reason is None

        fake.devices[0]["temp"] = 90
        await watch.apply_limits(monitor.sample())
        assert local.limit == 4 and "90 °C" in (watch.throttled_reason or "")
        await watch.apply_limits(monitor.sample())
        assert local.limit == 2
        assert remote.limit == 8  # a remote host is not slowed by our GPU

        fake.devices[0]["temp"] = 82  # below the limit but inside the margin: hold
        await watch.apply_limits(monitor.sample())
        assert local.limit == 2
        fake.devices[0]["temp"] = 60
        await watch.apply_limits(monitor.sample())
        assert local.limit == 3
        status = watch.status().to_json()
        assert status["available"] and status["local_backend_limits"] == {"local": 3}
    finally:
        for b in found.values():
            await b.aclose()


async def test_full_vram_throttles_too() -> None:
    fake = FakeNVML([device(used=23_900 * MIB, total=24_000 * MIB, temp=50)])
    found = backends("http://localhost:11434", "http://10.9.9.9:8000")
    watch = GpuWatch(fake_monitor(fake), GpuConfig(max_vram_fraction=0.95), found)
    try:
        await watch.apply_limits(watch.monitor.sample())
        assert found["local"].slots.limit == 4
        assert "VRAM" in (watch.throttled_reason or "")
    finally:
        for b in found.values():
            await b.aclose()


async def test_a_lowered_limit_holds_new_requests_until_running_ones_finish() -> None:
    from enrich_core.llm.slots import SlotLimit

    slots = SlotLimit(2)
    await slots.__aenter__()
    await slots.__aenter__()
    await slots.set_limit(1)
    await slots.__aexit__(None, None, None)
    waiter = asyncio.create_task(slots.__aenter__())
    await asyncio.sleep(0)
    assert not waiter.done()  # one still running, and the limit is now 1
    await slots.__aexit__(None, None, None)
    await waiter
    assert slots.in_use == 1


async def test_peak_vram_is_stored_with_each_gloss(tmp_path: Path) -> None:
    fake = FakeNVML([device(used=6000 * MIB, total=24_000 * MIB, temp=50)])
    with LLMServer() as llm:
        (tmp_path / "a.py").write_text("def f(x):\n    return x\n")
        config = parse_config(
            {
                "backends": [{"name": "b", "url": llm.url}],
                "tiers": [{"name": "t", "model": "m", "backends": ["b"]}],
                "gpu": {"sample_interval_s": 0.01},
            }
        )
        engine = Engine(tmp_path, config, gpu=fake_monitor(fake))
        await engine.start()
        try:
            await engine.scan()
            await engine.wait_idle()
            status = await engine.status()
        finally:
            await engine.stop()
    assert status.counts.enriched == 1
    assert status.gpu.available is True and status.gpu.watch is not None
    assert status.gpu.watch.throttled is None
    import sqlite3

    conn = sqlite3.connect(tmp_path / ".gloss" / "index.db")
    try:
        (peak,) = conn.execute("SELECT gpu_peak_vram_mb FROM glosses").fetchone()
    finally:
        conn.close()
    assert peak == 6000.0
    assert fake.shutdowns == fake.inits == 1
