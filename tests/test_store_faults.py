"""The store is never a reason to crash: damaged, foreign, newer, read-only, full.

Every case runs the real `gloss` command on a real SQLite file (and, for the
read-only and full cases, a real read-only bind mount or a small tmpfs): no
traceback, a message naming the file, nothing of the user's destroyed, and
the store's integrity_check ok afterwards.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.support.llm_server import LLMServer
from enrich_core.config import load_config
from enrich_core.records.result import GlossResult
from enrich_core.run.engine import Engine
from enrich_core.run.scheduler import SpanRef
from enrich_core.store.health import StoreError
from tests.conftest import OpenEngine, gloss_toml
from tests.store_mounts import fill, integrity, read_only_view, small_disk

GLOSS = str(Path(sys.executable).parent / "gloss")
SPANS = 5  # in the conftest workspace
LIMIT_S = 120


def gloss(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [GLOSS, *args], capture_output=True, text=True, timeout=LIMIT_S, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def store_of(root: Path) -> Path:
    return root / ".gloss" / "index.db"


def indexed(workspace: Path) -> Path:
    done = gloss("index", str(workspace))
    assert done.returncode == 0, done.stdout + done.stderr
    return store_of(workspace)


def one_function_workspace(disk: Path, llm: LLMServer) -> Path:
    """A workspace on `disk` with one function, `first`, glossed by `llm`."""
    root = disk / "ws"
    root.mkdir()
    (root / "gloss.toml").write_text(gloss_toml(llm.url))
    (root / "first.py").write_text("def first(x):\n    return x\n")
    return root


def when_glossed(engine: Engine, done: Callable[[set[str]], bool]) -> asyncio.Event:
    """An event set once `done` holds for the names the engine has glossed so far."""
    event = asyncio.Event()
    glossed: set[str] = set()

    def on_result(ref: SpanRef, result: GlossResult) -> None:
        if result.gloss is not None:
            glossed.add(ref.qualname)
        if done(glossed):
            event.set()

    engine.add_listener(on_result)
    return event


def overwrite_with_garbage(db: Path) -> None:
    db.write_bytes(random.Random(1).randbytes(db.stat().st_size))


def cut_in_half(db: Path) -> None:
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])


def garbage_header(db: Path) -> None:
    data = bytearray(db.read_bytes())
    data[:100] = random.Random(2).randbytes(100)
    db.write_bytes(bytes(data))


def damage_pages(db: Path) -> None:
    """Scribble over the cells of a few pages past the schema, keeping the header whole:
    only a check that reads every page (or a query that reaches them) finds it."""
    data = bytearray(db.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    pages = len(data) // page_size
    noise = random.Random(3)
    for page in range(pages // 2, min(pages, pages // 2 + 3)):
        start = page * page_size
        for i in range(start + 8, start + page_size, 5):
            data[i] = noise.randrange(256)
    db.write_bytes(bytes(data))


def damage_table(db: Path, table: str) -> None:
    """Scribble over one table's root page: the quick look at open (header, schema,
    meta) passes, and the first read of that table fails."""
    with sqlite3.connect(db) as conn:
        (root_page,) = conn.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = ?", (table,)
        ).fetchone()
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    start = (root_page - 1) * page_size
    noise = random.Random(4)
    for i in range(start, start + page_size):
        data[i] = noise.randrange(256)
    db.write_bytes(bytes(data))


def another_tools_database(db: Path) -> None:
    """A valid SQLite file that is not Gloss's: writing our tables into it would
    damage someone else's data."""
    db.unlink()
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('Ada')")
    conn.close()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "garbage file": overwrite_with_garbage,
    "truncated file": cut_in_half,
    "garbage header": garbage_header,
    "damaged pages": damage_pages,
    "damaged table": lambda db: damage_table(db, "spans"),
    "another tool's database": another_tools_database,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_store_is_moved_aside_and_a_fresh_one_built(
    workspace: Path, llm: LLMServer, damage: str
) -> None:
    db = indexed(workspace)
    DAMAGE[damage](db)
    damaged_bytes = db.read_bytes()

    done = gloss("index", str(workspace))

    assert done.returncode == 0, done.stdout + done.stderr
    assert str(db) in done.stderr and "moved it to index.db.damaged-" in done.stderr
    assert "asked of the models again" in done.stderr
    (aside,) = db.parent.glob("index.db.damaged-*[0-9]")
    assert aside.read_bytes() == damaged_bytes  # nothing of the user's is destroyed
    assert integrity(db) == "ok"
    assert len(llm.requests) == 2 * SPANS  # as told: the glosses are asked for again


@pytest.mark.parametrize(
    "damage", ["garbage file", "garbage header", "damaged table", "another tool's database"]
)
def test_reading_commands_name_a_damaged_store_and_leave_it_be(
    workspace: Path, damage: str
) -> None:
    db = indexed(workspace)
    DAMAGE[damage](db)
    damaged_bytes = db.read_bytes()
    for args in (
        ("status", str(workspace)),
        ("search", "circle", "--path", str(workspace)),
        ("hover", f"{workspace / 'pkg' / 'shapes.py'}:4"),
    ):
        done = gloss(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert str(db) in done.stderr and "gloss index" in done.stderr
    assert db.read_bytes() == damaged_bytes
    assert not list(db.parent.glob("index.db.damaged-*"))


def test_a_newer_glosss_store_is_refused_untouched(workspace: Path, llm: LLMServer) -> None:
    db = indexed(workspace)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    before = db.read_bytes()
    for args in (("index", str(workspace)), ("hover", f"{workspace / 'pkg' / 'shapes.py'}:4")):
        done = gloss(*args)
        assert done.returncode == 2, done.stdout + done.stderr
        assert str(db) in done.stderr and "newer Gloss" in done.stderr
    assert db.read_bytes() == before
    assert not list(db.parent.glob("index.db.damaged-*"))
    assert len(llm.requests) == SPANS
    assert integrity(db) == "ok"


def test_a_directory_in_the_stores_place_is_named_and_kept(workspace: Path) -> None:
    db = store_of(workspace)
    db.mkdir(parents=True)
    (db / "notes.txt").write_text("mine")
    for args in (("index", str(workspace)), ("status", str(workspace))):
        done = gloss(*args)
        assert done.returncode == 2, done.stdout + done.stderr
        assert str(db) in done.stderr and "directory" in done.stderr
    assert (db / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("what", ["workspace", "store directory"])
def test_reads_work_from_a_read_only_store_and_index_says_why_it_cannot(
    workspace: Path, tmp_path: Path, what: str
) -> None:
    db = indexed(workspace)
    with read_only_view(
        workspace if what == "workspace" else db.parent,
        tmp_path / "ro" if what == "workspace" else db.parent,
    ) as mounted:
        root = mounted if what == "workspace" else workspace
        ro_db = store_of(root)

        hover = gloss("hover", f"{root / 'pkg' / 'shapes.py'}:14")
        assert hover.returncode == 0, hover.stderr
        assert "load_config" in hover.stdout and "small-model" in hover.stdout
        assert "may be out of date" in hover.stderr and str(ro_db) in hover.stderr

        search = gloss("search", "config", "--path", str(root))
        assert search.returncode == 0 and "load_config" in search.stdout, search.stderr

        status = gloss("status", str(root), "--json")
        assert status.returncode == 0, status.stderr
        assert '"enriched": 5' in status.stdout and '"mode": "read-only"' in status.stdout

        index = gloss("index", str(root))
        assert index.returncode == 2, index.stdout + index.stderr
        assert str(ro_db) in index.stderr and "read-only" in index.stderr
    assert integrity(db) == "ok"


def test_gloss_index_on_a_full_disk_stops_cleanly_and_finishes_once_space_is_freed(
    tmp_path: Path, llm: LLMServer
) -> None:
    with small_disk(tmp_path / "disk", "3m") as disk:
        root = one_function_workspace(disk, llm)
        db = indexed(root)
        (root / "more.py").write_text(
            "".join(f"def more_{i:02d}(x):\n    return x + {i}\n\n\n" for i in range(40))
        )
        filler = fill(disk)

        full = gloss("index", str(root))
        assert full.returncode == 3, full.stdout + full.stderr
        assert str(db) in full.stderr and "full disk" in full.stderr
        hover = gloss("hover", f"{root / 'first.py'}:1")  # reads go on meanwhile
        assert hover.returncode == 0 and "first" in hover.stdout, hover.stderr
        assert "full disk" in hover.stderr  # and it says why the data may be old

        filler.unlink()
        assert integrity(db) == "ok"  # as the full disk left it
        done = gloss("index", str(root))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "41/41 spans glossed" in done.stdout and "0 failed" in done.stdout
        assert integrity(db) == "ok"


async def test_a_full_disk_stops_the_writer_keeps_hovers_and_loses_nothing(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    with small_disk(tmp_path / "disk", "3m") as disk:
        root = one_function_workspace(disk, llm)
        engine = await open_engine(root)
        engine.writer.stalled_retry_first_s = engine.writer.stalled_retry_max_s = 0.2
        await engine.scan()
        await engine.wait_idle()
        names = [f"more_{i:02d}" for i in range(30)]
        (root / "more.py").write_text("".join(f"def {n}(x):\n    return x\n\n\n" for n in names))
        stalled, resumed = asyncio.Event(), asyncio.Event()
        problems: list[StoreError | None] = []

        def on_problem(problem: StoreError | None) -> None:
            problems.append(problem)
            (stalled if problem is not None else resumed).set()

        engine.writer.add_problem_listener(on_problem)
        all_glossed = when_glossed(engine, lambda glossed: glossed >= set(names))
        filler = fill(disk)

        await engine.files_changed(["more.py"])
        async with asyncio.timeout(30):
            await stalled.wait()
        status = await engine.status()
        assert status.store is not None and status.store.mode == "stalled"
        assert status.store.problem and str(store_of(root)) in status.store.problem
        assert "full disk" in status.store.problem
        hover = await engine.hover("first.py", 0)  # what is stored is still served
        assert hover is not None and hover.gloss is not None
        assert status.counts.failed == 0

        filler.unlink()
        async with asyncio.timeout(60):
            await resumed.wait()
            await all_glossed.wait()
        await engine.wait_idle()
        status = await engine.status()
        assert status.counts.spans == status.counts.enriched == 31
        assert status.counts.failed == 0
        assert status.store is not None and status.store.mode == "writing"
        # Each span went to a model once: a result held through the stall was
        # written when space came back, not asked for again.
        asked = Counter(r.symbol for r in llm.requests)
        assert max(asked.values()) == 1, asked
        await engine.stop()  # its files closed before the disk goes
        assert integrity(store_of(root)) == "ok"


async def test_a_store_damaged_after_a_read_only_open_is_checked_in_full_at_the_next_start(
    workspace: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    db = indexed(workspace)
    damage_table(db, "spans")
    reader = Engine(workspace, load_config(workspace))
    await reader.start(glossing=False)  # a reading command: it never repairs
    told: list[str] = []
    reader.add_store_listener(lambda message, _problem: told.append(message))
    try:
        assert (await reader.scan()).fresh is False  # the damage is met, not raised
        assert await reader.hover("pkg/shapes.py", 13) is None
        assert await reader.search("load_config") == []
        assert told and str(db) in told[0] and "damaged" in told[0]
    finally:
        await reader.stop()
    assert not list(db.parent.glob("index.db.damaged-*"))

    again = await open_engine(workspace)  # the quick look passes, but every page is checked
    assert any("moved it to index.db.damaged-" in n for n in again.store_notices)
    await again.scan()
    await again.wait_idle()
    info = await again.hover("pkg/shapes.py", 13)
    assert info is not None and info.gloss is not None
    await again.stop()
    assert integrity(db) == "ok"


async def test_a_server_meeting_damage_moves_the_store_aside_and_goes_on_with_a_fresh_one(
    workspace: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    db = indexed(workspace)
    damage_table(db, "spans")
    engine = await open_engine(workspace)  # the quick look at open finds nothing wrong
    moved = asyncio.Event()
    told: list[str] = []

    def on_store(message: str, _problem: bool) -> None:
        told.append(message)
        if "moved it to index.db.damaged-" in message:
            moved.set()

    engine.add_store_listener(on_store)
    all_glossed = when_glossed(engine, lambda glossed: len(glossed) == SPANS)
    assert await engine.hover("pkg/shapes.py", 13) is None  # answered, not raised
    async with asyncio.timeout(60):
        await moved.wait()
        await all_glossed.wait()
    assert str(db) in told[0] and "damaged" in told[0]
    info = await engine.hover("pkg/shapes.py", 13)
    assert info is not None and info.gloss is not None
    status = await engine.status()
    assert status.store is not None and status.store.mode == "writing"
    assert status.counts.spans == status.counts.enriched == SPANS
    assert len(list(db.parent.glob("index.db.damaged-*[0-9]"))) == 1
    assert len(llm.requests) == 2 * SPANS  # as told: asked for again
    await engine.stop()
    assert integrity(db) == "ok"


async def test_a_server_started_on_a_full_disk_reads_then_writes_once_space_is_freed(
    tmp_path: Path, llm: LLMServer, open_engine: OpenEngine
) -> None:
    with small_disk(tmp_path / "disk", "3m") as disk:
        root = one_function_workspace(disk, llm)
        db = indexed(root)
        (root / "second.py").write_text("def second(x):\n    return x\n")
        filler = fill(disk)

        engine = await open_engine(root)
        assert not engine.writing
        status = await engine.status()
        assert status.store is not None and status.store.mode == "stalled"
        assert status.store.problem and str(db) in status.store.problem
        info = await engine.hover("first.py", 0)  # what is stored is shown meanwhile
        assert info is not None and info.gloss is not None

        writing = asyncio.Event()
        engine.add_store_listener(lambda message, problem: writing.set() if not problem else None)
        engine.writer.stalled_retry_max_s = 0.2
        filler.unlink()
        async with asyncio.timeout(60):
            await writing.wait()  # tried again on its timer, and took the store
        assert engine.writing
        await engine.scan()
        await engine.wait_idle()
        status = await engine.status()
        assert status.counts.spans == status.counts.enriched == 2
        assert Counter(r.symbol for r in llm.requests) == {"first": 1, "second": 1}
        await engine.stop()
        assert integrity(db) == "ok"
