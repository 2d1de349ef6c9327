"""Freshness rules with real parts: many roots sharing a pool, prompt-version refresh,
edited-away text leaving the queue, and the last gloss a span had shown stale.

Orders are read from the test LLM server's request log; nothing waits on a
clock except the server's own latency, which only keeps a queue from draining.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

import enrich_core.run.engine as engine_module
from bench.support.llm_server import LLMServer
from enrich_core.config import load_config
from enrich_core.llm.outbound import PROMPT_VERSION
from enrich_core.present.render import render_hover
from enrich_core.run.engine import Engine
from enrich_core.run.pool import WorkPool
from enrich_core.run.scheduler import Priority
from tests.conftest import gloss_toml

Factory = Callable[..., Any]


@pytest.fixture
async def open_engine() -> AsyncIterator[Factory]:
    """Engines, stopped after the test; `shared=True` ones share one pool, as the
    server's workspace folders do (stopped after them)."""
    engines: list[Engine] = []
    pools: list[WorkPool] = []

    async def make(root: Path, *, shared: bool = False, glossing: bool = True) -> Engine:
        if shared and not pools:
            pools.append(WorkPool())
        engine = Engine(root, load_config(root), pool=pools[0] if shared else None)
        await engine.start(glossing=glossing)
        engines.append(engine)
        return engine

    yield make
    for engine in reversed(engines):
        await engine.stop()
    for pool in pools:
        await pool.stop()


async def scanned_roots(open_engine: Factory, *roots: Path) -> list[Engine]:
    """One engine per root on one shared pool, each root's backlog queued in order."""
    engines = [await open_engine(root, shared=True) for root in roots]
    for engine in engines:
        await engine.scan()
    return engines


def functions(prefix: str, n: int) -> str:
    return "".join(f"def {prefix}_{i:02d}(x):\n    return x + {i}\n\n\n" for i in range(n))


def make_root(root: Path, llm: LLMServer, files: dict[str, str], concurrency: int = 1) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "gloss.toml").write_text(gloss_toml(llm.url, concurrency=concurrency))
    for rel, text in files.items():
        (root / rel).write_text(text)
    return root


async def test_two_roots_share_the_host_cap_and_a_small_root_is_not_stuck_behind_a_big_one(
    tmp_path: Path, open_engine: Factory
) -> None:
    with LLMServer(latency_s=0.01) as llm:
        big = make_root(tmp_path / "big", llm, {"big.py": functions("big", 40)})
        small = make_root(tmp_path / "small", llm, {"small.py": functions("small", 4)})
        # The big root queues its backlog first...
        big_engine, small_engine = await scanned_roots(open_engine, big, small)
        # Turns are taken from when both backlogs are queued: on a loaded machine the
        # big root may gloss a few spans while the small one is still being scanned.
        before_small = len([s for s in llm.symbols() if s])
        # The same backend definition in both roots is one host with one cap.
        assert big_engine.backends["test"] is small_engine.backends["test"]
        assert big_engine.pool is not None and big_engine.pool.worker_count() == 1
        await big_engine.wait_idle()
        await small_engine.wait_idle()
        order = [s for s in llm.symbols() if s]
        assert len(order) == 44
        # ...yet the roots take turns: the small one is done within its first
        # few turns, not after the big backlog (strict FIFO: index 43).
        last_small = max(i for i, s in enumerate(order) if s.startswith("small_"))
        assert last_small - before_small <= 9, (before_small, order[:16])
        assert llm.max_in_flight == 1  # two roots, one host: still one request at a time


async def test_an_edit_in_one_root_goes_before_every_root_s_backlog(
    tmp_path: Path, open_engine: Factory
) -> None:
    with LLMServer(latency_s=0.02) as llm:
        a = make_root(tmp_path / "a", llm, {"a.py": functions("back_a", 20)})
        b = make_root(tmp_path / "b", llm, {"b.py": functions("back_b", 20)})
        engine_a, engine_b = await scanned_roots(open_engine, a, b)
        assert await asyncio.to_thread(llm.wait_for_requests, 1)
        edited = "def edited_now(y):\n    return y * 2\n"
        (b / "new.py").write_text(edited)
        await engine_b.document_changed("new.py", edited)
        await engine_a.wait_idle()
        await engine_b.wait_idle()
        order = llm.symbols()
        # One request was in flight, and a worker may have taken one more.
        assert order.index("edited_now") <= 2, order[:5]


async def test_an_older_prompt_s_glosses_are_shown_and_refreshed_after_the_backlog_newest_first(
    tmp_path: Path, open_engine: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LLMServer() as llm:
        files = {name: f"def in_{name[:-3]}(x):\n    return x\n" for name in ("old.py", "mid.py")}
        files["new.py"] = "def in_new(x):\n    return x\n"
        root = make_root(tmp_path / "ws", llm, files)
        first = await open_engine(root)
        await first.scan()
        await first.wait_idle()
        await first.stop()
        for age, name in enumerate(("new.py", "mid.py", "old.py")):  # new.py touched last
            stamp = 1_700_000_000 - age * 1000
            os.utime(root / name, (stamp, stamp))
        (root / "zz_unglossed.py").write_text("def never_glossed(x):\n    return x\n")
        llm.reset()

        monkeypatch.setattr(engine_module, "PROMPT_VERSION", PROMPT_VERSION + "-next")
        engine = await open_engine(root)
        info = await engine.hover("new.py", 0)
        assert info is not None and info.gloss is not None
        assert info.older_prompt == PROMPT_VERSION and not info.stale
        assert "written by an older prompt" in render_hover(info)
        assert (await engine.status()).counts.outdated == 3

        await engine.scan()
        assert engine.scheduler.queued_by_priority()["refresh"] >= 2
        await engine.wait_idle()
        # The never-glossed span first (the backlog), then the refreshes, newest file first.
        assert llm.symbols() == ["never_glossed", "in_new", "in_mid", "in_old"]
        info = await engine.hover("old.py", 0)
        assert info is not None and info.older_prompt is None and info.gloss is not None
        assert (await engine.status()).counts.outdated == 0


async def test_text_edited_away_leaves_the_queue_but_text_another_file_shares_stays(
    tmp_path: Path, open_engine: Factory
) -> None:
    with LLMServer(latency_s=0.05) as llm:
        shared = "def shared_fn(x):\n    return x * 7\n"
        root = make_root(
            tmp_path / "ws",
            llm,
            {"a.py": shared + "\n\n" + functions("gone", 20), "z.py": shared},
        )
        engine = await open_engine(root)
        await engine.scan()
        assert await asyncio.to_thread(llm.wait_for_requests, 1)
        before = engine.scheduler.queued
        edited = shared + "\n\n" + functions("kept", 3)
        await engine.document_changed("a.py", edited, saved=False)
        # The queue lost what was edited away (not only gained what was added).
        assert engine.scheduler.queued < before
        await engine.wait_idle()
        asked = [s for s in llm.symbols() if s]
        assert sum(s.startswith("gone_") for s in asked) <= 2  # in flight or taken at the edit
        assert sorted(s for s in asked if s.startswith("kept_")) == [
            "kept_00",
            "kept_01",
            "kept_02",
        ]
        assert asked.count("shared_fn") == 1  # z.py still has it: glossed once, not dropped
        info = await engine.hover("z.py", 0)
        assert info is not None and info.gloss is not None


async def test_edited_twice_before_a_gloss_the_hover_shows_the_last_gloss_it_had_as_stale(
    tmp_path: Path, open_engine: Factory
) -> None:
    with LLMServer() as llm:
        root = make_root(tmp_path / "ws", llm, {"m.py": "def f(x):\n    return x\n"})
        glossing = await open_engine(root)
        await glossing.scan()
        await glossing.wait_idle()
        await glossing.stop()
        # No workers now: the edits stay unglossed, as if the queue were long.
        engine = await open_engine(root, glossing=False)
        await engine.document_changed("m.py", "def f(x):\n    return x + 1\n", saved=False)
        await engine.document_changed("m.py", "def f(x):\n    return x + 2\n", saved=False)
        await engine.writer.flush()
        info = await engine.hover("m.py", 0)
        assert info is not None and info.stale and info.gloss is not None
        assert "return x + 2" not in info.gloss.gloss.summary  # the old text's gloss


async def test_closing_an_unsaved_buffer_goes_back_to_the_disk_s_text(
    tmp_path: Path, open_engine: Factory
) -> None:
    with LLMServer() as llm:
        root = make_root(tmp_path / "ws", llm, {"m.py": "def on_disk(x):\n    return x\n"})
        engine = await open_engine(root, glossing=False)
        await engine.scan()
        await engine.document_changed("m.py", "def only_typed(x):\n    return x\n", saved=False)
        await engine.writer.flush()
        assert [h.span.name for h in await engine.search("only_typed")] == ["only_typed"]
        # A scan now must not take the buffer's spans for the disk's.
        report = await engine.scan()
        assert report.parsed == 1
        await engine.document_changed("m.py", "def only_typed(x):\n    return x\n", saved=False)
        await engine.document_closed("m.py")
        await engine.writer.flush()
        assert await engine.search("only_typed") == []
        assert [h.span.name for h in await engine.search("on_disk")] == ["on_disk"]


async def test_a_watcher_batch_waits_for_a_scan_in_progress(
    tmp_path: Path, open_engine: Factory
) -> None:
    with LLMServer() as llm:
        root = make_root(tmp_path / "ws", llm, {"m.py": "def first(x):\n    return x\n"})
        engine = await open_engine(root, glossing=False)
        async with engine._scan_lock:  # a scan in progress
            changed = asyncio.ensure_future(engine.files_changed(["m.py"]))
            (root / "m.py").write_text("def second(x):\n    return x\n")
            for _ in range(5):
                await asyncio.sleep(0)  # let it run as far as it can: to the lock
            assert not changed.done()
        await changed
        await engine.writer.flush()
        assert [h.span.name for h in await engine.search("second")] == ["second"]


async def test_files_changed_together_are_glossed_most_recent_first(
    tmp_path: Path, open_engine: Factory
) -> None:
    with LLMServer() as llm:
        names = ("a.py", "b.py", "c.py")
        root = make_root(
            tmp_path / "ws", llm, {n: f"def in_{n[0]}(x):\n    return x\n" for n in names}
        )
        engine = await open_engine(root, glossing=False)  # nothing drains the queue
        await engine.scan()
        for name, stamp in zip(names, (3_000, 1_000, 2_000), strict=True):
            (root / name).write_text(f"def in_{name[0]}(x):\n    return x + 1\n")
            os.utime(root / name, (1_700_000_000 + stamp,) * 2)
        await engine.files_changed(sorted(names))
        popped = [engine.scheduler.pop() for _ in names]
        assert [(p[0], p[1].qualname) for p in popped if p] == [
            (Priority.DISK, "in_a"),
            (Priority.DISK, "in_c"),
            (Priority.DISK, "in_b"),
        ]


async def test_a_root_that_stops_mid_run_leaves_the_other_root_working(
    tmp_path: Path, open_engine: Factory
) -> None:
    with LLMServer(latency_s=0.05) as slow, LLMServer() as fast:
        a = make_root(tmp_path / "a", slow, {"a.py": functions("in_a", 20)})
        b = make_root(tmp_path / "b", fast, {"b.py": functions("in_b", 20)})
        engine_a, engine_b = await scanned_roots(open_engine, a, b)
        assert engine_a.pool is not None and engine_a.pool.worker_count() == 2  # two hosts
        assert await asyncio.to_thread(slow.wait_for_requests, 1)
        pool = engine_a.pool
        await engine_a.stop()  # its gloss in flight is abandoned, not committed half-way
        assert pool.worker_count() == 1
        await engine_b.wait_idle()
        status = await engine_b.status()
        assert status.counts.enriched == status.counts.spans == 20
        assert len(slow.requests) <= 2  # nothing more went to the stopped root's host


async def test_a_method_body_edit_re_glosses_the_method_not_its_class(
    tmp_path: Path, open_engine: Factory
) -> None:
    source = (
        "class Cart:\n"
        '    """Items and their prices."""\n'
        "\n"
        "    def total(self, items):\n"
        "        return sum(items)\n"
    )
    with LLMServer() as llm:
        root = make_root(tmp_path / "ws", llm, {"cart.py": source})
        engine = await open_engine(root)
        await engine.scan()
        await engine.wait_idle()
        assert sorted(s for s in llm.symbols() if s) == ["Cart", "Cart.total"]

        await engine.document_changed("cart.py", source.replace("sum(items)", "sum(items) * 2"))
        await engine.wait_idle()
        assert sorted(s for s in llm.symbols() if s) == ["Cart", "Cart.total", "Cart.total"]
        info = await engine.hover("cart.py", 0)
        assert info is not None and info.gloss is not None and not info.stale

        # A new signature is part of what the class is: that re-glosses it.
        await engine.document_changed("cart.py", source.replace("items):", "items, tax):"))
        await engine.wait_idle()
        assert [s for s in llm.symbols() if s].count("Cart") == 2
