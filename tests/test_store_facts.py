"""Facts read from the code are stored with the result for that text, in the same commit,
and read back into the hover; the gate's verdicts are counted per tier as they are written."""

from __future__ import annotations

import asyncio
import io
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from enrich_core.records.facts import CodeFacts, Effect, EffectKind, Raise
from enrich_core.records.gloss import Gloss
from enrich_core.records.result import GlossResult, RequestRecord
from enrich_core.source.spans import extract_spans
from enrich_core.store.reads import Store
from enrich_core.store.write_ops import RecordResult, ReplaceFile, gate_verdicts
from enrich_core.store.writer import Writer

GLOSS = Gloss("Reads the settings file.", ("path: where",), ("dict",), (), (), "", ("t",))
SOURCE = "def load(path):\n    with open(path) as f:\n        return f.read()\n"
FACTS = CodeFacts(
    effects=(Effect(EffectKind.FILE, "open(", 2),),
    raises=(Raise("OSError", "open(", 2, direct=False),),
    calls=("open", "f.read"),
    parameters=("path",),
)


def answered(tier: str, ok: bool = True) -> RequestRecord:
    return RequestRecord("b", tier, "m", ok, None if ok else "timeout", 5.0, 10, 5, False)


async def write(db: Path, *results: GlossResult, source: str = SOURCE) -> str:
    """The file's spans and these results (for its first span's hash unless they name one)."""
    spans = extract_spans("a.py", source)
    writer = Writer(db)
    await writer.start()
    try:
        await writer.submit(ReplaceFile("a.py", 1, len(source), spans))
        for r in results:
            await writer.submit(RecordResult(r, "1"))
    finally:
        await writer.stop()
    return spans[0].content_hash


async def hover_facts(db: Path) -> CodeFacts | None:
    store = await Store.open(db, "1")
    try:
        info = await store.hover("a.py", 0)
    finally:
        await store.close()
    assert info is not None
    return info.facts


async def test_facts_are_written_with_a_gloss_and_read_back_into_the_hover(tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    content_hash = extract_spans("a.py", SOURCE)[0].content_hash
    glossed = GlossResult(content_hash, GLOSS, model="m", tier="t", backend="b", facts=FACTS)
    await write(db, glossed)
    assert await hover_facts(db) == FACTS


async def test_a_failed_span_keeps_its_facts_and_a_later_result_replaces_them(
    tmp_path: Path,
) -> None:
    db = tmp_path / "i.db"
    content_hash = extract_spans("a.py", SOURCE)[0].content_hash
    failed = GlossResult(content_hash, None, failure="t: HTTP 500", facts=FACTS)
    await write(db, failed)
    assert await hover_facts(db) == FACTS
    fewer = CodeFacts(effects=(), raises=(), calls=(), parameters=("path",))
    await write(db, GlossResult(content_hash, GLOSS, model="m", tier="t", backend="b", facts=fewer))
    assert await hover_facts(db) == fewer
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM code_facts").fetchone() == (1,)
    finally:
        conn.close()


async def test_a_result_without_facts_leaves_the_hover_without_them(tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    content_hash = extract_spans("a.py", SOURCE)[0].content_hash
    await write(db, GlossResult(content_hash, GLOSS, model="m", tier="t", backend="b"))
    assert await hover_facts(db) is None


async def test_a_store_from_before_facts_gains_the_table_on_open_and_reads_without_it(
    tmp_path: Path,
) -> None:
    db = tmp_path / "i.db"
    content_hash = await write(db)
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE code_facts")  # as a Gloss from before facts left it
    conn.commit()
    conn.close()
    # Read where it cannot gain the table (reads never write the file): no facts, no error.
    assert await hover_facts(db) is None
    glossed = GlossResult(content_hash, GLOSS, model="m", tier="t", backend="b", facts=FACTS)
    await write(db, glossed)  # the writer's open adds it
    assert await hover_facts(db) == FACTS


# The last commit whose store had no code_facts table.
GLOSS_BEFORE_FACTS = "bc79c54"
OLD_WRITER = """
import asyncio, sys
from pathlib import Path
from enrich_core.records.gloss import Gloss
from enrich_core.records.result import GlossResult
from enrich_core.store.write_ops import RecordResult
from enrich_core.store.writer import Writer

async def main():
    writer = Writer(Path(sys.argv[1]))
    await writer.start()
    try:
        gloss = Gloss("Reads the settings file.", (), (), (), (), "", ())
        await writer.submit(RecordResult(
            GlossResult(sys.argv[2], gloss, model="m", tier="t", backend="b"), "1"))
    finally:
        await writer.stop()

asyncio.run(main())
"""


def older_gloss(into: Path) -> Path | None:
    """The engine of the Gloss before facts, unpacked from git history (None without it)."""
    repo = Path(__file__).resolve().parent.parent
    into.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", GLOSS_BEFORE_FACTS, "enrich_core"],
        capture_output=True,
        timeout=60,
    )
    if archive.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_older_writer(old: Path, db: Path, content_hash: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", OLD_WRITER, str(db), content_hash],
        cwd=old,
        env={**os.environ, "PYTHONPATH": str(old)},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_gloss_from_before_facts_writes_a_store_that_has_them(tmp_path: Path) -> None:
    old = await asyncio.to_thread(older_gloss, tmp_path / "old")
    if old is None:
        pytest.skip(f"no git history to take the Gloss of {GLOSS_BEFORE_FACTS} from")
    db = tmp_path / "i.db"
    content_hash = extract_spans("a.py", SOURCE)[0].content_hash
    await write(db, GlossResult(content_hash, None, failure="t: HTTP 500", facts=FACTS))
    ran = await asyncio.to_thread(run_older_writer, old, db, content_hash)
    assert ran.returncode == 0, ran.stderr
    store = await Store.open(db, "1")
    try:
        info = await store.hover("a.py", 0)
    finally:
        await store.close()
    assert info is not None and info.gloss is not None  # the older Gloss's gloss
    assert info.facts == FACTS  # the facts written before it, still there


def test_each_answer_a_host_gave_is_judged_once_the_last_one_the_gloss() -> None:
    escalated = GlossResult(
        "h",
        GLOSS,
        tier="big",
        rejections=("filler", "not_json"),
        requests=(answered("small", ok=False), answered("small"), answered("mid"),
                  answered("big")),
    )  # fmt: skip
    assert gate_verdicts(escalated) == [("small", "filler"), ("mid", "not_json"), ("big", None)]
    failed = GlossResult(
        "h", None, failure="...", rejections=("too_short",), requests=(answered("small"),)
    )
    assert gate_verdicts(failed) == [("small", "too_short")]
    unanswered = GlossResult("h", None, failure="down", requests=(answered("small", ok=False),))
    assert gate_verdicts(unanswered) == []


async def test_the_gate_verdicts_are_counted_per_tier_with_the_reasons(tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    results = [
        GlossResult(
            f"h{i}",
            GLOSS,
            model="m",
            tier="big",
            backend="b",
            rejections=("filler",),
            requests=(answered("small"), answered("big")),
        )
        for i in range(3)
    ]
    results.append(
        GlossResult(
            "h9", GLOSS, model="m", tier="small", backend="b", requests=(answered("small"),)
        )
    )
    await write(db, *results)
    conn = sqlite3.connect(db)
    try:
        counters = dict(conn.execute("SELECT name, value FROM counters WHERE name LIKE 'gate%'"))
    finally:
        conn.close()
    assert counters == {
        "gate_judged:small": 4,
        "gate_judged:big": 3,
        "gate_rejected:filler:small": 3,
    }


async def test_facts_this_gloss_cannot_read_leave_the_hover_without_them(tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    content_hash = extract_spans("a.py", SOURCE)[0].content_hash
    await write(db, GlossResult(content_hash, GLOSS, model="m", tier="t", backend="b", facts=FACTS))
    conn = sqlite3.connect(db)
    # As a newer Gloss with a kind of effect this one does not know would write them.
    newer = FACTS.to_json().replace('"file"', '"database"')
    conn.execute("UPDATE code_facts SET facts = ?", (newer,))
    conn.commit()
    conn.close()
    store = await Store.open(db, "1")
    try:
        info = await store.hover("a.py", 0)
    finally:
        await store.close()
    assert info is not None and info.gloss is not None and info.facts is None


async def test_facts_of_a_text_that_moved_down_its_file_name_the_lines_where_it_is_now(
    tmp_path: Path,
) -> None:
    db = tmp_path / "index.db"
    spans = extract_spans("a.py", SOURCE)
    writer = Writer(db)
    await writer.start()
    try:
        await writer.submit(ReplaceFile("a.py", 1, len(SOURCE), spans))
        result = GlossResult(spans[0].content_hash, GLOSS, "m", "t", "b", facts=FACTS)
        await writer.submit(RecordResult(result, "1", None, spans[0].start_line))
        # Three lines inserted above: the same text (the same hash, no new gloss) moves.
        moved_source = "import os\n\n\n" + SOURCE
        moved = extract_spans("a.py", moved_source)
        assert moved[0].content_hash == spans[0].content_hash
        await writer.submit(ReplaceFile("a.py", 2, len(moved_source), moved))
    finally:
        await writer.stop()
    store = await Store.open(db, "1")
    try:
        info = await store.hover("a.py", 3)
    finally:
        await store.close()
    assert info is not None and info.facts is not None
    assert [e.line for e in info.facts.effects] == [5]
    assert [r.line for r in info.facts.raises] == [5]
