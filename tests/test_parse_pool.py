"""Parse workers: a scan parsed by worker processes stores exactly what one parsed in
this process stores, a worker that dies costs no file, and none outlives its scan.

Real processes (`python -m enrich_core.source.parse_pool`) over real pipes; the
only stand-in is a ParsePool subclass where a test must act at a given moment
(the workers just started), which no notification of the product marks.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.support.workspace import write_workspace
from enrich_core.config import IndexConfig, parse_config
from enrich_core.run import engine as engine_module
from enrich_core.run.engine import Engine
from enrich_core.source import parse_pool as parse_pool_module
from enrich_core.source.discovery import SkippedFile, SourceFile
from enrich_core.source.indexer import Indexer, ScanChunk
from enrich_core.source.parse_pool import (
    ParsePool,
    cores_are_free,
    end_spares,
    split_by_size,
    start_spares,
    usable_cores,
)
from enrich_core.source.parsed_file import ParsedFile

FILES = 40
PER_FILE = 3
CHUNK = 8


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    write_workspace(root, FILES * PER_FILE, per_file=PER_FILE)
    # One file the workers must skip, with its reason, like the scan's own thread.
    (root / "src" / "module_020x.py").write_bytes(b"def f():\x00 pass\n")
    return root


def _chunks(root: Path, pool: ParsePool | None) -> list[ScanChunk]:
    indexer = Indexer(root, IndexConfig())
    return list(indexer.scan_chunks(indexer.walk(), {}, CHUNK, pool))


def _flat(chunks: list[ScanChunk]) -> tuple[list[ParsedFile], list[SkippedFile], list[str]]:
    parsed = [p for c in chunks for p in c.parsed]
    skipped = [s for c in chunks for s in c.skipped]
    seen = [s for c in chunks for s in c.seen]
    return parsed, skipped, seen


def test_workers_parse_what_this_process_would(tree: Path) -> None:
    alone = _flat(_chunks(tree, None))
    pool = ParsePool(IndexConfig().max_file_bytes, 2, min_files=1)
    try:
        shared = _flat(_chunks(tree, pool))
        assert pool.started and not pool.broken
    finally:
        pool.wait_closed()
    assert shared == alone
    parsed, skipped, seen = shared
    assert len(parsed) == FILES and sum(len(p.spans) for p in parsed) == FILES * PER_FILE
    assert [s.path for s in skipped] == ["src/module_020x.py"]
    assert "binary" in skipped[0].reason
    assert seen == sorted(seen)  # file order kept


@pytest.fixture
def spares(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Spare workers started as `gloss serve` starts them (on idle cores: the load of
    the machine running the tests must not decide); their pids."""
    monkeypatch.setattr(parse_pool_module, "cores_are_free", lambda cores: True)
    assert not parse_pool_module._spares
    start_spares()
    pids = [w.process.pid for w in parse_pool_module._spares]
    yield pids
    leftover = parse_pool_module._spares[:]
    parse_pool_module._spares.clear()
    for worker in leftover:
        parse_pool_module._end(worker)
        worker.process.wait(timeout=10)


def test_spares_are_the_first_pool_s_workers_and_parse_its_first_chunk(
    tree: Path, spares: list[int]
) -> None:
    assert len(spares) == usable_cores()
    alone = _flat(_chunks(tree, None))
    pool = ParsePool(IndexConfig().max_file_bytes, None, min_files=1)
    try:
        shared = _flat(_chunks(tree, pool))
        assert pool.started and pool.warm and not pool.broken
        assert [w.process.pid for w in pool._workers] == spares
    finally:
        pool.wait_closed()
    assert shared == alone
    assert not parse_pool_module._spares
    for pid in spares:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # exited and reaped


def test_spares_no_scan_takes_end_with_the_first_pool(tree: Path, spares: list[int]) -> None:
    pool = ParsePool(IndexConfig().max_file_bytes, 0, min_files=1)  # parse_workers = 0
    assert _flat(_chunks(tree, pool)) == _flat(_chunks(tree, None))
    assert not pool.started
    pool.wait_closed()
    assert not parse_pool_module._spares
    for pid in spares:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_spares_no_scan_came_for_end_after_their_wait(spares: list[int]) -> None:
    """No scan ran (another Gloss writes the store, a bad config): what the timer
    start_spares sets calls after SPARES_WAIT_S ends them."""
    end_spares()
    assert not parse_pool_module._spares
    for pid in spares:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_batch_is_split_in_order_by_bytes_not_by_count() -> None:
    def files(*sizes: int) -> list[SourceFile]:
        return [SourceFile(f"f{i}.py", Path(f"f{i}.py"), n, 0) for i, n in enumerate(sizes)]

    def sizes(runs: list[tuple[SourceFile, ...]]) -> list[list[int]]:
        return [[f.size for f in run] for run in runs]

    # One large file among small ones: it gets a worker to itself, not half the list.
    assert sizes(split_by_size(files(10, 10, 10, 1000, 10, 10), 2)) == [
        [10, 10, 10],
        [1000, 10, 10],
    ]
    assert sizes(split_by_size(files(5, 5, 5, 5, 5, 5, 5), 2)) == [[5, 5, 5, 5], [5, 5, 5]]
    rng = random.Random(3)
    for _ in range(500):
        batch = files(*(rng.choice((0, 1, 50, 4000)) for _ in range(rng.randint(0, 12))))
        count = rng.randint(1, 4)
        runs = split_by_size(batch, count)
        assert [f for run in runs for f in run] == batch  # every file once, in order
        assert len(runs) <= count and all(runs)


def test_too_few_files_start_no_worker(tree: Path) -> None:
    pool = ParsePool(IndexConfig().max_file_bytes, 2, min_files=CHUNK + 1)
    _chunks(tree, pool)
    assert not pool.started
    pool.wait_closed()


def test_no_worker_configured_parses_here(tree: Path) -> None:
    pool = ParsePool(IndexConfig().max_file_bytes, 0, min_files=1)
    assert _flat(_chunks(tree, pool)) == _flat(_chunks(tree, None))
    assert not pool.started


class _KillsAWorker(ParsePool):
    """Kills the first worker as soon as it has started: its batches must still be parsed."""

    def start(self) -> None:
        super().start()
        victim = self._workers[0].process
        victim.send_signal(signal.SIGKILL)
        victim.wait()


def test_a_dead_worker_loses_no_file(tree: Path) -> None:
    pool = _KillsAWorker(IndexConfig().max_file_bytes, 2, min_files=1)
    try:
        shared = _flat(_chunks(tree, pool))
    finally:
        pool.wait_closed()
    assert pool.broken
    assert shared == _flat(_chunks(tree, None))


def _workers_of_this_process() -> set[int]:
    """Pids of live children of this process running the parse worker."""
    found: set[int] = set()
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
        state = next(line.split()[1] for line in status.splitlines() if line.startswith("State:"))
        if int(ppid) == me and state != "Z" and b"enrich_core.source.parse_pool" in cmdline:
            found.add(int(entry.name))
    return found


def _config(root: Path, workers: int) -> object:
    return parse_config(
        {
            "store": {"path": str(root.parent / "store.db")},
            "index": {"parse_workers": workers},
            "backends": [{"name": "b", "kind": "ollama", "url": "http://127.0.0.1:1"}],
            "tiers": [{"name": "t", "model": "m", "backends": ["b"]}],
        },
        source="test",
    )


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
async def test_engine_scan_with_workers_stores_every_span_and_leaves_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    write_workspace(root, 100 * PER_FILE, per_file=PER_FILE)  # 100 files: two scan chunks
    started: list[ParsePool] = []

    class Watched(ParsePool):
        def start(self) -> None:
            super().start()
            started.append(self)

    monkeypatch.setattr(engine_module, "ParsePool", Watched)
    engine = Engine(root, _config(root, 2))  # type: ignore[arg-type]
    await engine.start(glossing=False)
    try:
        report = await engine.scan()
        status = await engine.status()
    finally:
        await engine.stop()
    assert started and not started[0].broken  # the workers did parse
    assert (report.files, report.parsed) == (100, 100)
    assert status.counts.spans == 100 * PER_FILE
    assert _workers_of_this_process() == set()


async def test_a_cancelled_scan_ends_its_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    write_workspace(root, 200 * PER_FILE, per_file=PER_FILE)
    loop = asyncio.get_running_loop()
    workers_up = asyncio.Event()

    class Signalling(ParsePool):
        def start(self) -> None:
            super().start()
            loop.call_soon_threadsafe(workers_up.set)  # start() runs in the scan's thread

    monkeypatch.setattr(engine_module, "ParsePool", Signalling)
    engine = Engine(root, _config(root, 2))  # type: ignore[arg-type]
    await engine.start(glossing=False)
    try:
        scan = asyncio.create_task(engine.scan())
        async with asyncio.timeout(60):
            await workers_up.wait()
        scan.cancel()
        with pytest.raises(asyncio.CancelledError):
            await scan
        assert _workers_of_this_process() == set()
        # The engine goes on: a scan after the cancelled one stores everything.
        report = await engine.scan()
        assert report.files == 200
    finally:
        await engine.stop()
    assert _workers_of_this_process() == set()


def test_unless_told_how_many_workers_start_only_on_idle_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The load average is the seam: a test cannot make the machine busy or idle.
    monkeypatch.setattr(os, "getloadavg", lambda: (1.9, 1.0, 1.0))
    assert not cores_are_free(2) and cores_are_free(4)
    assert not cores_are_free(1)
    busy = ParsePool(IndexConfig().max_file_bytes, None)
    busy.size = 2  # as on a 2-core machine, whatever this one has
    assert not busy.wants(100)
    assert ParsePool(IndexConfig().max_file_bytes, 2).wants(100)  # told: load or not
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.5, 0.5))
    assert busy.wants(100)
    assert not ParsePool(IndexConfig().max_file_bytes, 0).wants(100)
