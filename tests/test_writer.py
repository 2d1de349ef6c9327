"""The writer: batches bounded by rows, futures resolve only after commit, stop drains all;
a full disk stalls it without losing or failing anything, until space returns."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from enrich_core.records.gloss import Gloss
from enrich_core.records.result import GlossResult
from enrich_core.source.spans import extract_spans
from enrich_core.store.health import StoreError, StoreProblemKind
from enrich_core.store.write_ops import Barrier, RecordResult, ReplaceFile
from enrich_core.store.writer import Writer
from tests.store_mounts import fill, integrity, small_disk

GLOSS = Gloss("Does a thing.", ("x: input",), ("y",), (), (), "f(1)", ("t",))


def result(i: int, ok: bool = True) -> RecordResult:
    r = GlossResult(
        content_hash=f"h{i}",
        gloss=GLOSS if ok else None,
        model="m", tier="t", backend="b", tokens_in=10, tokens_out=5, attempts=1,
        failure=None if ok else "HTTP 500",
    )  # fmt: skip
    return RecordResult(r, "1")


def count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


async def test_a_future_resolves_only_after_its_row_is_committed(tmp_path: Path) -> None:
    db = tmp_path / ".gloss" / "index.db"
    writer = Writer(db)
    await writer.start()
    try:
        future = writer.submit(result(1))
        assert not future.done()
        await future
        # Visible from another connection: committed, not just written.
        assert count(db, "SELECT count(*) FROM glosses") == 1
        assert count(db, "SELECT value FROM counters WHERE name = 'tokens_in'") == 10
    finally:
        await writer.stop()


async def test_batches_hold_at_most_max_rows(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "i.db", max_rows=64)
    await writer.start()
    try:
        futures = [writer.submit(result(i, ok=i % 7 != 0)) for i in range(200)]
        await asyncio.gather(*futures)
    finally:
        await writer.stop()
    assert writer.rows_committed == 200
    assert writer.commits >= 4  # 200 rows cannot fit in fewer than 4 batches of 64
    db = tmp_path / "i.db"
    assert (
        count(db, "SELECT count(*) FROM glosses") + count(db, "SELECT count(*) FROM failures")
        == 200
    )
    assert count(db, "SELECT value FROM counters WHERE name = 'llm_calls'") == 200


async def test_stop_drains_everything_submitted(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "i.db", max_delay_s=60.0)  # only the stop can flush these
    await writer.start()
    futures = [writer.submit(result(i)) for i in range(10)]
    await writer.stop()
    assert all(f.done() and f.exception() is None for f in futures)
    assert count(tmp_path / "i.db", "SELECT count(*) FROM glosses") == 10


async def test_a_barrier_commits_without_waiting_for_the_deadline(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "i.db", max_delay_s=60.0)
    await writer.start()
    try:
        first = writer.submit(result(1))
        await writer.submit(Barrier())  # would hang for 60 s if it waited out the deadline
        assert first.done()
    finally:
        await writer.stop()


async def test_an_urgent_row_commits_its_batch_at_once(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "i.db", max_delay_s=600.0)
    await writer.start()
    try:
        backlog = writer.submit(result(1))
        await writer.submit(result(2), urgent=True)  # would hang past the test's timeout
        assert backlog.done()  # the rows queued before it share its commit
        assert writer.commits == 1
    finally:
        await writer.stop()


async def test_a_failing_op_rolls_back_its_batch_and_the_writer_goes_on(tmp_path: Path) -> None:
    class Broken:
        rows = 1

        def apply(self, conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO no_such_table VALUES (1)")

    writer = Writer(tmp_path / "i.db")
    await writer.start()
    try:
        good = writer.submit(result(1))
        bad = writer.submit(Broken())
        await asyncio.gather(good, bad, return_exceptions=True)
        assert isinstance(bad.exception(), sqlite3.OperationalError)
        later = writer.submit(result(2))
        await later
    finally:
        await writer.stop()
    # The batch with the broken op was rolled back whole; the writer kept going.
    assert count(tmp_path / "i.db", "SELECT count(*) FROM glosses") == 1


async def test_replacing_a_file_keeps_the_old_hash_for_stale_hovers(tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    writer = Writer(db)
    await writer.start()
    try:
        old = extract_spans("a.py", "def f():\n    return 1\n")
        new = extract_spans("a.py", "def f():\n    return 2\n")
        await writer.submit(ReplaceFile("a.py", 1, 10, old))
        await writer.submit(ReplaceFile("a.py", 2, 10, new))
    finally:
        await writer.stop()
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT content_hash, prev_hash FROM spans WHERE name = 'f'").fetchone()
        names = conn.execute("SELECT count(*) FROM spans WHERE name = 'f'").fetchone()
    finally:
        conn.close()
    assert row == (new[0].content_hash, old[0].content_hash)
    assert names[0] == 1  # the new row only


async def test_a_store_from_an_older_schema_gains_the_new_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE glosses (id INTEGER PRIMARY KEY, content_hash TEXT NOT NULL, "
        "prompt_version TEXT NOT NULL, body TEXT NOT NULL, search_text TEXT NOT NULL, "
        "model TEXT NOT NULL, tier TEXT NOT NULL, backend TEXT NOT NULL, "
        "tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL, "
        "tokens_estimated INTEGER NOT NULL, duration_ms REAL NOT NULL, "
        "attempts INTEGER NOT NULL, escalations TEXT NOT NULL, gpu_peak_vram_mb REAL, "
        "created_at REAL NOT NULL, UNIQUE (content_hash, prompt_version));"
    )
    conn.close()
    writer = Writer(db)
    await writer.start()
    try:
        await writer.submit(result(1))
    finally:
        await writer.stop()
    assert count(db, "SELECT count(*) FROM glosses") == 1
    assert (
        count(db, "SELECT count(*) FROM pragma_table_info('glosses') WHERE name = 'trimmed'") == 1
    )


async def test_a_store_of_schema_2_loses_its_name_trigram_index_and_keeps_its_spans(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.db"
    writer = Writer(db)
    await writer.start()
    try:
        old = extract_spans("a.py", "def f():\n    pass\n")
        await writer.submit(ReplaceFile("a.py", 1, 10, old))
    finally:
        await writer.stop()
    conn = sqlite3.connect(db)
    try:  # as Gloss left it before schema 3
        conn.execute(
            "CREATE VIRTUAL TABLE spans_fts USING fts5 "
            "(name, content='spans', content_rowid='id', tokenize='trigram')"
        )
        conn.execute("INSERT INTO spans_fts (rowid, name) SELECT id, name FROM spans")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        conn.commit()
    finally:
        conn.close()
    writer = Writer(db)
    await writer.start()
    try:
        new = extract_spans("a.py", "def g():\n    pass\n")
        await writer.submit(ReplaceFile("a.py", 2, 10, new))
    finally:
        await writer.stop()
    assert count(db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'spans_fts%'") == 0
    assert count(db, "SELECT count(*) FROM spans WHERE name = 'g'") == 1
    assert count(db, "SELECT count(*) FROM spans WHERE name = 'f'") == 0
    assert count(db, "SELECT value FROM meta WHERE key = 'schema_version'") == 3
    assert integrity(db) == "ok"


async def test_a_full_disk_keeps_the_batch_until_space_returns_then_commits_it(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk", "2m") as disk:
        db = disk / ".gloss" / "index.db"
        writer = Writer(db, stalled_retry_first_s=0.05, stalled_retry_max_s=0.2)
        await writer.start()
        problems: list[StoreError | None] = []
        stalled = asyncio.Event()

        def heard(problem: StoreError | None) -> None:
            problems.append(problem)
            if problem is not None:
                stalled.set()

        writer.add_problem_listener(heard)
        try:
            await writer.submit(result(0))
            filler = fill(disk)
            # Big enough that the WAL must grow: the disk refuses it.
            futures = [writer.submit(result(i)) for i in range(1, 400)]
            async with asyncio.timeout(30):
                await stalled.wait()
            assert writer.problem is not None
            assert writer.problem.kind is StoreProblemKind.FULL and writer.problem.path == db
            assert not any(f.done() for f in futures)  # kept, not failed, not lost
            filler.unlink()
            async with asyncio.timeout(30):
                await asyncio.gather(*futures)
            assert writer.problem is None and problems[-1] is None
        finally:
            await writer.stop()
        assert count(db, "SELECT count(*) FROM glosses") == 400
        assert count(db, "SELECT count(*) FROM failures") == 0
        assert integrity(db) == "ok"


async def test_stop_on_a_disk_still_full_gives_up_the_queue_and_keeps_the_store_whole(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk", "2m") as disk:
        db = disk / ".gloss" / "index.db"
        writer = Writer(db, stalled_retry_first_s=0.05, stalled_retry_max_s=0.2)
        await writer.start()
        await writer.submit(result(0))
        filler = fill(disk)
        futures = [writer.submit(result(i)) for i in range(1, 400)]
        async with asyncio.timeout(30):
            await writer.stop()  # bounded: one last try, then what is queued is given up
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        assert outcomes and all(isinstance(o, StoreError) for o in outcomes)
        assert writer.ops_given_up == len(futures)
        filler.unlink()
        assert count(db, "SELECT count(*) FROM glosses") == 1  # what was committed stays
        assert integrity(db) == "ok"
