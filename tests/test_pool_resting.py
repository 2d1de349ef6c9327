"""A resting host in one workspace folder does not hold up another folder sharing the pool.

Two folders, one engine each on one shared `WorkPool` (as the server's workspace
folders are), each with its own test LLM server (real HTTP on 127.0.0.1). Folder
A's host answers HTTP 500; its breaker rests it for an hour, so A's spans wait
for the whole test. Folder B's spans must all be glossed meanwhile, in B's own
freshness order. Orders and counts come from the servers' request logs and the
queues; waits are bounded, never timed. The last test does the same through
`gloss serve` with two workspace folders, and shuts it down while A's spans wait.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from lsprotocol import types

from bench.support.llm_server import Behavior, LLMServer
from enrich_core.config import load_config
from enrich_core.llm.breaker import Breaker, BreakerState, wait_for_change, waiting_listener
from enrich_core.records.result import GlossResult
from enrich_core.run.engine import Engine
from enrich_core.run.pool import WorkPool
from enrich_core.run.scheduler import SpanRef
from tests.conftest import SMALL, StartLsp

LIMIT_S = 30.0  # a hang ends as a failure
HOUR_S = 3600.0  # a rest that outlasts the test

Results = list[tuple[SpanRef, GlossResult]]


def backend_toml(
    name: str, url: str, *, concurrency: int, cooldown_s: float, probes: int = 3
) -> str:
    return textwrap.dedent(
        f"""
        [[backends]]
        name = "{name}"
        kind = "ollama"
        url = "{url}"
        max_concurrency = {concurrency}
        timeout_s = 20
        max_retries = 1
        retry_base_s = 0.01
        breaker_threshold = 2
        breaker_cooldown_s = {cooldown_s}
        breaker_probes = {probes}
        """
    )


def tier_toml(name: str, backends: list[str]) -> str:
    names = ", ".join(f'"{backend}"' for backend in backends)
    return f'\n[[tiers]]\nname = "{name}"\nmodel = "{SMALL}"\nbackends = [{names}]\n'


def gloss_toml(url: str, *, concurrency: int, cooldown_s: float, probes: int = 3) -> str:
    """One host, one tier."""
    host = backend_toml("host", url, concurrency=concurrency, cooldown_s=cooldown_s, probes=probes)
    return host + tier_toml("small", ["host"])


def functions(prefix: str, n: int) -> str:
    return "".join(f"def {prefix}_{i:02d}(x):\n    return x + {i}\n\n\n" for i in range(n))


def make_root(root: Path, toml: str, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    (root / "gloss.toml").write_text(toml)
    for rel, text in files.items():
        (root / rel).write_text(text)
    return root


@pytest.fixture
async def shared_pool() -> AsyncIterator[WorkPool]:
    pool = WorkPool()
    yield pool
    await pool.stop()


@pytest.fixture
async def engines() -> AsyncIterator[list[Engine]]:
    started: list[Engine] = []
    yield started
    for engine in reversed(started):
        await engine.stop()


async def start(root: Path, pool: WorkPool, started: list[Engine], results: Results) -> Engine:
    engine = Engine(root, load_config(root), pool=pool)
    await engine.start()
    started.append(engine)
    engine.add_listener(lambda ref, result: results.append((ref, result)))
    return engine


def host_breaker(engine: Engine) -> Breaker:
    assert engine.router is not None
    return engine.router.breakers["host"]


async def until_resting(breaker: Breaker) -> None:
    async with asyncio.timeout(LIMIT_S):
        while breaker.state is BreakerState.CLOSED:
            await wait_for_change([breaker], LIMIT_S)


async def test_a_resting_host_in_one_folder_leaves_the_other_folder_glossed_in_its_order(
    tmp_path: Path, shared_pool: WorkPool, engines: list[Engine]
) -> None:
    with LLMServer() as llm_a, LLMServer(latency_s=0.05) as llm_b:
        llm_a.set_behavior(Behavior(mode="status", status=500))
        a = make_root(
            tmp_path / "a",
            gloss_toml(llm_a.url, concurrency=2, cooldown_s=HOUR_S),
            {"a.py": functions("in_a", 8)},
        )
        b = make_root(
            tmp_path / "b",
            gloss_toml(llm_b.url, concurrency=1, cooldown_s=HOUR_S),
            {"b.py": functions("in_b", 6)},
        )
        results_a: Results = []
        results_b: Results = []
        engine_a = await start(a, shared_pool, engines, results_a)
        await engine_a.scan()
        # A's host fails: its breaker rests it, and A's spans in flight wait for a
        # probe an hour away, with every worker the pool has at that moment.
        await until_resting(host_breaker(engine_a))
        sent_to_a = len(llm_a.requests)

        engine_b = await start(b, shared_pool, engines, results_b)
        await engine_b.scan()
        assert await asyncio.to_thread(llm_b.wait_for_requests, 1, LIMIT_S)
        edited = "def edited_now(y):\n    return y * 2\n"
        (b / "new.py").write_text(edited)
        await engine_b.document_changed("new.py", edited)
        # An edit in the resting folder outranks B's backlog, yet takes no worker.
        (a / "new_a.py").write_text("def edited_in_a(y):\n    return y - 2\n")
        await engine_a.document_changed("new_a.py", "def edited_in_a(y):\n    return y - 2\n")
        async with asyncio.timeout(LIMIT_S):
            await engine_b.wait_idle()

        order = [s for s in llm_b.symbols() if s]
        backlog = [f"in_b_{i:02d}" for i in range(6)]
        assert sorted(order) == sorted([*backlog, "edited_now"])  # each span once
        # B's freshness order holds: one request was in service when the edit
        # came, and the worker finishing it may have taken the next one already.
        assert order.index("edited_now") <= 2, order
        assert [s for s in order if s != "edited_now"] == backlog  # the backlog in file order
        assert len(results_b) == 7
        assert all(result.gloss is not None for _, result in results_b)

        # All that while A's host rested: no probe, no request for A's edit,
        # nothing of A failed, and no more of A's spans than its host's two
        # slots were taken from its queue to wait.
        assert host_breaker(engine_a).state is BreakerState.OPEN
        assert len(llm_a.requests) == sent_to_a
        assert results_a == []
        assert engine_a.scheduler.in_flight == 2
        assert engine_a.scheduler.queued == 8 + 1 - 2


async def test_a_host_declared_down_fails_its_folder_at_once_and_the_other_folder_is_glossed(
    tmp_path: Path, shared_pool: WorkPool, engines: list[Engine]
) -> None:
    with LLMServer() as llm_a, LLMServer() as llm_b:
        llm_a.set_behavior(Behavior(mode="status", status=500))
        a = make_root(
            tmp_path / "a",
            gloss_toml(llm_a.url, concurrency=2, cooldown_s=0.05, probes=1),
            {"a.py": functions("in_a", 8)},
        )
        b = make_root(
            tmp_path / "b",
            gloss_toml(llm_b.url, concurrency=1, cooldown_s=0.05),
            {"b.py": functions("in_b", 6)},
        )
        results_a: Results = []
        results_b: Results = []
        engine_a = await start(a, shared_pool, engines, results_a)
        engine_b = await start(b, shared_pool, engines, results_b)
        await engine_a.scan()
        await engine_b.scan()
        async with asyncio.timeout(LIMIT_S):
            await engine_a.wait_idle()
            await engine_b.wait_idle()

        assert host_breaker(engine_a).state is BreakerState.DOWN
        assert sorted(ref.qualname for ref, _ in results_a) == [f"in_a_{i:02d}" for i in range(8)]
        for _, result in results_a:
            assert result.gloss is None
            assert result.failure is not None
            assert "is down" in result.failure and llm_a.url in result.failure
        assert llm_b.symbols() == [f"in_b_{i:02d}" for i in range(6)]
        assert all(result.gloss is not None for _, result in results_b)


async def test_a_folder_alone_waits_out_its_host_s_rest_and_glosses_everything(
    tmp_path: Path, shared_pool: WorkPool, engines: list[Engine]
) -> None:
    with LLMServer() as llm:
        # Two failures in a row rest the host; the probe after the rest finds it back.
        llm.set_behavior(Behavior(mode="status", status=500, fail_times=2))
        root = make_root(
            tmp_path / "alone",
            gloss_toml(llm.url, concurrency=2, cooldown_s=0.05),
            {"a.py": functions("in_a", 8)},
        )
        results: Results = []
        engine = await start(root, shared_pool, engines, results)
        await engine.scan()
        async with asyncio.timeout(LIMIT_S):
            await engine.wait_idle()

        assert BreakerState.OPEN in [t.state for t in host_breaker(engine).history]
        assert host_breaker(engine).state is BreakerState.CLOSED
        assert sorted(ref.qualname for ref, _ in results) == [f"in_a_{i:02d}" for i in range(8)]
        assert all(result.gloss is not None for _, result in results)
        assert llm.max_in_flight <= 2  # stand-ins for waiting spans add no requests


async def test_a_resting_host_holds_no_worker_of_a_folder_sharing_the_other_host(
    tmp_path: Path, shared_pool: WorkPool, engines: list[Engine]
) -> None:
    with LLMServer() as llm_x, LLMServer(latency_s=0.02) as llm_y:
        llm_x.set_behavior(Behavior(mode="status", status=500))
        # A glosses on x first, y after; B only on y, defined as A defines it: one
        # host y, one slot, shared. The pool has two workers (x's slot and y's),
        # and A may hold both with spans waiting out x's rest.
        y = backend_toml("y", llm_y.url, concurrency=1, cooldown_s=HOUR_S)
        x = backend_toml("x", llm_x.url, concurrency=1, cooldown_s=HOUR_S)
        a_toml = x + y + tier_toml("small", ["x"]) + tier_toml("large", ["y"])
        a = make_root(tmp_path / "a", a_toml, {"a.py": functions("in_a", 8)})
        b = make_root(tmp_path / "b", y + tier_toml("small", ["y"]), {"b.py": functions("in_b", 6)})
        results_a: Results = []
        results_b: Results = []
        engine_a = await start(a, shared_pool, engines, results_a)
        await engine_a.scan()
        x_breaker = engine_a.router.breakers["x"] if engine_a.router else None
        assert x_breaker is not None
        await until_resting(x_breaker)

        engine_b = await start(b, shared_pool, engines, results_b)
        assert engine_a.backends["y"] is engine_b.backends["y"]
        assert shared_pool.worker_count() == 2
        await engine_b.scan()
        async with asyncio.timeout(LIMIT_S):
            await engine_b.wait_idle()

        assert llm_y.symbols() == [f"in_b_{i:02d}" for i in range(6)]  # none of A's
        assert all(result.gloss is not None for _, result in results_b)
        assert x_breaker.state is BreakerState.OPEN
        assert results_a == []
        assert engine_a.scheduler.in_flight == 2  # its cap: x's slot and y's
        assert engine_a.scheduler.queued == 8 - 2


async def test_the_breaker_tells_the_waiting_task_when_it_starts_and_stops_waiting() -> None:
    told: list[bool] = []
    breaker = Breaker(threshold=1, cooldown_s=HOUR_S)
    breaker.record_failure("refused")

    async def wait() -> None:
        waiting_listener.set(told.append)
        await wait_for_change([breaker], LIMIT_S)

    waiting = asyncio.create_task(wait())
    await asyncio.sleep(0)  # let it start waiting
    assert told == [True]
    breaker.record_success()  # a transition ends the wait
    await asyncio.wait_for(waiting, LIMIT_S)
    assert told == [True, False]
    cancelled = asyncio.create_task(wait())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert told == [True, False, True, False]  # told even when cancelled
    await asyncio.wait_for(wait_for_change([breaker], 0.01), LIMIT_S)  # no listener here
    assert told == [True, False, True, False]


async def test_gloss_serve_glosses_one_folder_while_the_other_s_host_rests(
    tmp_path: Path, start_lsp: StartLsp
) -> None:
    with LLMServer() as llm_a, LLMServer(latency_s=0.05) as llm_b:
        llm_a.set_behavior(Behavior(mode="status", status=500))
        a = make_root(
            tmp_path / "a",
            gloss_toml(llm_a.url, concurrency=2, cooldown_s=HOUR_S),
            {"a.py": functions("in_a", 20)},
        )
        b = make_root(
            tmp_path / "b",
            gloss_toml(llm_b.url, concurrency=1, cooldown_s=HOUR_S),
            {"b.py": functions("in_b", 6)},
        )
        session = await start_lsp(a, folders=[a, b])
        await session.progress.wait_idle(LIMIT_S, root=b)
        assert sorted(s for s in llm_b.symbols() if s) == [f"in_b_{i:02d}" for i in range(6)]
        hover = await session.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=(b / "b.py").as_uri()),
                position=types.Position(line=4, character=4),
            )
        )
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert "test model" in hover.contents.value
        # A's host rested all the while: its spans wait (none failed), unglossed.
        assert all(s and s.startswith("in_a_") for s in llm_a.symbols())
        a_events = [e for e in session.progress.events if e["root"] == str(a)]
        assert a_events and a_events[-1]["queued"] + a_events[-1]["in_flight"] > 0
        # The fixture then shuts the server down, in bounded time, with A's spans waiting.
