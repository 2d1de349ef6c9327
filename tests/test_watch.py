"""The engine with the file watcher: real files, real file-system events, the test LLM server.

Nothing here sleeps to wait: every wait is on an asyncio.Event that the engine
(through a result listener, or a thin subclass that signals after
`files_changed` and `scan`) sets, bounded by `asyncio.timeout` so a failure
cannot hang CI.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import pytest

from bench.support.llm_server import LLMServer
from enrich_core.config import load_config
from enrich_core.records.result import GlossResult
from enrich_core.run.engine import Engine, ScanReport
from enrich_core.run.scheduler import SpanRef
from enrich_core.run.watch import watch_workspace
from tests.conftest import SAMPLE, gloss_toml, write_files

WAIT_S = 60.0  # an upper bound for a wait that normally takes well under a second


class WatchedEngine(Engine):
    """An Engine that records what the watcher hands it and wakes waiters on every change."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, load_config(root))
        self.batches: list[list[str]] = []
        self.scans = 0
        self.results: list[tuple[SpanRef, GlossResult]] = []
        self._tick = asyncio.Event()
        self.add_listener(self._on_result)

    def _on_result(self, ref: SpanRef, result: GlossResult) -> None:
        self.results.append((ref, result))
        self._tick.set()

    async def files_changed(self, rels: Iterable[str]) -> int:
        rels = list(rels)
        try:
            return await super().files_changed(rels)
        finally:
            self.batches.append(rels)
            self._tick.set()

    async def scan(self, *, retry_failed_now: bool = False) -> ScanReport:
        try:
            return await super().scan(retry_failed_now=retry_failed_now)
        finally:
            self.scans += 1
            self._tick.set()

    async def until(self, predicate: Callable[[], bool], within: float = WAIT_S) -> None:
        """Wait until `predicate()` holds; it is re-checked after every recorded change."""
        async with asyncio.timeout(within):
            while not predicate():
                self._tick.clear()
                await self._tick.wait()

    # --- what happened ------------------------------------------------------

    def glossed(self, path: str, qualname: str) -> list[str]:
        """Content hashes of the glosses committed for this span, in commit order."""
        return [
            ref.content_hash
            for ref, result in self.results
            if ref.path == path and ref.qualname == qualname and result.gloss is not None
        ]

    def changed(self, rel: str) -> bool:
        return any(rel in batch for batch in self.batches)

    def changed_after(self, count: int, rel: str) -> bool:
        return any(rel in batch for batch in self.batches[count:])


async def write(root: Path, files: dict[str, str]) -> None:
    await asyncio.to_thread(write_files, root, files)


async def watch_ready(engine: WatchedEngine) -> None:
    """Make sure the watcher sees events: write a probe until a batch names it.

    watchfiles gives no "watching now" signal; its watches exist once the task
    has entered awatch. A probe write that comes back as a batch proves it.
    """
    for attempt in range(30):
        await write(engine.root, {"_probe.py": f"PROBE = {attempt}\n"})
        try:
            await engine.until(lambda: engine.changed("_probe.py"), within=2.0)
            return
        except TimeoutError:
            continue
    raise AssertionError("the watcher never reported a probe file")


@contextlib.asynccontextmanager
async def watched(root: Path, *, initial_scan: bool = True) -> AsyncIterator[WatchedEngine]:
    """A started engine (scanned and idle) with the watcher running; both stopped after."""
    engine = WatchedEngine(root)
    stop = asyncio.Event()
    task: asyncio.Task[None] | None = None
    await engine.start()
    try:
        if initial_scan:
            await engine.scan()
            async with asyncio.timeout(WAIT_S):
                await engine.wait_idle()
        task = asyncio.create_task(watch_workspace(engine, stop), name="test-watcher")
        await watch_ready(engine)
        yield engine
    finally:
        stop.set()
        if task is not None:
            async with asyncio.timeout(WAIT_S):
                await task
        await engine.stop()


@pytest.fixture
def ws(tmp_path: Path, llm: LLMServer) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    write_files(root, SAMPLE)
    (root / "gloss.toml").write_text(gloss_toml(llm.url))
    return root


async def test_a_new_file_is_glossed_and_an_edit_is_glossed_again(ws: Path, llm: LLMServer) -> None:
    async with watched(ws) as engine:
        assert len(llm.requests) == 5  # the sample, from the initial scan
        await write(ws, {"pkg/new_mod.py": "def alpha():\n    return 1\n"})
        await engine.until(lambda: bool(engine.glossed("pkg/new_mod.py", "alpha")))
        first = engine.glossed("pkg/new_mod.py", "alpha")[0]
        info = await engine.hover("pkg/new_mod.py", 0)
        assert info is not None and info.gloss is not None and not info.stale
        assert info.span.content_hash == first

        await write(
            ws,
            {
                "pkg/new_mod.py": (
                    "def alpha(x: int) -> int:\n    return x + 1\n\n\ndef beta(y):\n    return y\n"
                )
            },
        )
        await engine.until(
            lambda: (
                any(h != first for h in engine.glossed("pkg/new_mod.py", "alpha"))
                and bool(engine.glossed("pkg/new_mod.py", "beta"))
            )
        )
        info = await engine.hover("pkg/new_mod.py", 0)
        assert info is not None and info.gloss is not None and not info.stale
        assert info.span.content_hash != first
        assert info.span.signature == "def alpha(x: int) -> int"
        assert list(info.gloss.gloss.inputs) == ["x"]
        beta = await engine.hover("pkg/new_mod.py", 4)
        assert beta is not None and beta.gloss is not None

    # The files the watcher saw were glossed from their current text.
    sigs = [r.body["messages"][-1]["content"] for r in llm.requests if r.symbol == "alpha"]
    assert len(sigs) == 2
    assert "Signature: def alpha()" in sigs[0]
    assert "Signature: def alpha(x: int) -> int" in sigs[1]


async def test_a_deleted_file_loses_its_spans(ws: Path, llm: LLMServer) -> None:
    async with watched(ws) as engine:
        before = await engine.status()
        assert before.counts.spans == 5
        assert await engine.hover("pkg/shapes.py", 13) is not None

        seen = len(engine.batches)
        await asyncio.to_thread((ws / "pkg/shapes.py").unlink)
        await engine.until(lambda: engine.changed_after(seen, "pkg/shapes.py"))
        await engine.writer.flush()

        assert await engine.hover("pkg/shapes.py", 13) is None
        assert await engine.hover("pkg/shapes.py", 3) is None
        after = await engine.status()
        assert after.counts.spans == 0
        assert await engine.search("load_config") == []
    assert len(llm.requests) == 5  # a deletion costs no LLM call


async def test_a_file_matched_by_gitignore_is_never_sent(ws: Path, llm: LLMServer) -> None:
    (ws / ".gitignore").write_text("ignored_*.py\nbuild/\n")
    (ws / "build").mkdir()
    async with watched(ws) as engine:
        await write(
            ws,
            {
                "ignored_one.py": "def leaked_one():\n    return 'do not send'\n",
                "build/generated.py": "def leaked_two():\n    return 'do not send'\n",
                "kept.py": "def kept_fn():\n    return 'send me'\n",
            },
        )
        await engine.until(lambda: bool(engine.glossed("kept.py", "kept_fn")))
        async with asyncio.timeout(WAIT_S):
            await engine.wait_idle()

        # A rule added while watching is honoured for the files written after it.
        scans = engine.scans
        await write(ws, {".gitignore": "ignored_*.py\nbuild/\nlate_*.py\n"})
        await engine.until(lambda: engine.scans > scans)
        await write(
            ws,
            {
                "late_secret.py": "def leaked_three():\n    return 'do not send'\n",
                "kept_too.py": "def kept_two():\n    return 'send me'\n",
            },
        )
        await engine.until(lambda: bool(engine.glossed("kept_too.py", "kept_two")))
        async with asyncio.timeout(WAIT_S):
            await engine.wait_idle()

        for rel in ("ignored_one.py", "build/generated.py", "late_secret.py"):
            assert await engine.hover(rel, 0) is None
    symbols = set(llm.symbols())
    assert {"kept_fn", "kept_two"} <= symbols
    assert not symbols & {"leaked_one", "leaked_two", "leaked_three"}
    prompts = "\n".join(str(r.body) for r in llm.requests)
    assert "do not send" not in prompts


async def test_a_rule_added_to_git_info_exclude_is_honoured(ws: Path, llm: LLMServer) -> None:
    (ws / ".git" / "info").mkdir(parents=True)
    async with watched(ws) as engine:
        await write(ws, {".git/info/exclude": "private_*.py\n"})
        await write(
            ws,
            {
                "private_notes.py": "def leaked_private():\n    return 'do not send'\n",
                "public.py": "def public_fn():\n    return 1\n",
            },
        )
        await engine.until(lambda: bool(engine.glossed("public.py", "public_fn")))
        async with asyncio.timeout(WAIT_S):
            await engine.wait_idle()
    assert "leaked_private" not in llm.symbols()


async def test_a_directory_named_like_the_store_directory_is_watched(
    tmp_path: Path, llm: LLMServer
) -> None:
    root = tmp_path / "ws"
    (root / "data_tools").mkdir(parents=True)
    (root / "gloss.toml").write_text(
        gloss_toml(llm.url, extra='\n[store]\npath = "data/index.db"\n')
    )
    async with watched(root) as engine:
        seen = len(engine.batches)
        await write(root, {"data_tools/loader.py": "def load_rows():\n    return []\n"})
        await write(root, {"zz_after.py": "def after():\n    return 0\n"})
        await engine.until(lambda: engine.changed_after(seen, "zz_after.py"))
        # Events come in order: the loader was written first, so it was seen by now.
        assert engine.changed_after(seen, "data_tools/loader.py")


async def test_a_renamed_package_directory_is_reindexed(ws: Path, llm: LLMServer) -> None:
    async with watched(ws) as engine:
        seen = len(engine.batches)
        await asyncio.to_thread((ws / "pkg").rename, ws / "geometry")
        await write(ws, {"zz_after.py": "def after():\n    return 0\n"})
        await engine.until(lambda: engine.changed_after(seen, "zz_after.py"))
        async with asyncio.timeout(WAIT_S):
            await engine.wait_idle()
        assert await engine.hover("geometry/shapes.py", 13) is not None
        assert await engine.hover("pkg/shapes.py", 13) is None


async def test_a_burst_of_200_files_is_handled_in_few_batches(ws: Path, llm: LLMServer) -> None:
    (ws / "gen").mkdir()  # exists before watching: the burst is of files, not directories
    count = 200
    files = {
        f"gen/mod_{i:03d}.py": f"def func_{i:03d}(x):\n    return x + {i}\n" for i in range(count)
    }
    async with watched(ws) as engine:
        seen = len(engine.batches)

        def all_glossed() -> bool:
            done = {ref.path for ref, result in engine.results if result.gloss is not None}
            return all(rel in done for rel in files)

        await write(ws, files)
        await engine.until(all_glossed, within=120.0)
        async with asyncio.timeout(WAIT_S):
            await engine.wait_idle()

        calls = engine.batches[seen:]
        handed = {rel for batch in calls for rel in batch}
        assert set(files) <= handed
        assert len(calls) < count  # debounced into batches, not one call per file

        status = await engine.status()
        assert status.counts.spans == status.counts.enriched == 5 + count
        assert status.counts.pending == status.counts.failed == 0
    assert len(llm.requests) == 5 + count  # each new span glossed once
