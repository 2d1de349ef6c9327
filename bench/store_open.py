"""How long opening a big store takes, with each check the store can get at open.

Run:  .venv/bin/python -m bench.store_open [--spans N] [--dir PARENT] [--cold]

Builds a store of N spans (default 100,000), each with a gloss of realistic
size (~200 MB in all), then times, on that file:

- `inspect`: what every open runs (a directory? a SQLite header? truncated?
  the schema and meta readable, not from a newer Gloss?);
- `quick_check`: SQLite's check of every page, what `gloss index` adds;
- `integrity_check`: the full check, for comparison;
- an engine's open as the server does it (check, lock, writer, read side) and
  its first hover.

`--cold` drops the OS page cache before each timing (root only), which is what
the first open after a reboot sees. A benchmark reports; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from enrich_core.llm.outbound import PROMPT_VERSION
from enrich_core.store.access import StoreAccess, StoreRole
from enrich_core.store.db import SCHEMA_VERSION, open_for_writing
from enrich_core.store.health import full_check, inspect
from enrich_core.store.writer import Writer

WORDS = (
    "parse yaml config load cache token retry backoff span hash file path queue batch "
    "commit index symbol hover model tier reads writes returns raises validates"
).split()
SPANS_PER_FILE = 100


def build(db: Path, spans: int) -> None:
    noise = random.Random(1)
    conn = open_for_writing(db)
    conn.execute("BEGIN")
    for i in range(spans):
        content_hash = hashlib.sha256(str(i).encode()).hexdigest()
        name = f"func_{i}_{noise.choice(WORDS)}"
        path = f"pkg/mod_{i // SPANS_PER_FILE:05d}.py"
        line = i % SPANS_PER_FILE * 10
        conn.execute(
            "INSERT INTO spans (path, name, qualname, kind, container, start_line, start_col, "
            "end_line, end_col, name_line, name_col, name_end_col, header_end_line, signature, "
            "docstring, content_hash, prev_hash, name_lower, language) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                path, name, name, "function", None, line, 0, line + 8, 0, line, 4,
                4 + len(name), line, f"def {name}(x: int, y: str = 'a') -> dict[str, int]:",
                " ".join(noise.choices(WORDS, k=12)), content_hash, None, name.lower(), "python",
            ),
        )  # fmt: skip
        body = json.dumps(
            {
                "summary": " ".join(noise.choices(WORDS, k=60)),
                "inputs": [" ".join(noise.choices(WORDS, k=8))] * 2,
                "outputs": [" ".join(noise.choices(WORDS, k=8))],
                "side_effects": [],
                "pitfalls": [" ".join(noise.choices(WORDS, k=10))],
                "usage_snippet": f"{name}(1, 'b')",
                "tags": noise.choices(WORDS, k=4),
            }
        )
        conn.execute(
            "INSERT INTO glosses (content_hash, prompt_version, body, search_text, model, tier, "
            "backend, tokens_in, tokens_out, tokens_estimated, duration_ms, attempts, "
            "escalations, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (content_hash, PROMPT_VERSION, body, body[:400], "m", "t", "b", 100, 100, 0, 1.0, 1,
             "", time.time()),
        )  # fmt: skip
    conn.execute("INSERT INTO glosses_fts (rowid, search_text) SELECT id, search_text FROM glosses")
    conn.executemany(
        "INSERT INTO files VALUES (?, 1, 1)",
        [(f"pkg/mod_{f:05d}.py",) for f in range(spans // SPANS_PER_FILE + 1)],
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def drop_caches(cold: bool) -> None:
    if cold:
        Path("/proc/sys/vm/drop_caches").write_text("1\n")


def timed_ms(step: Callable[[], Any], cold: bool) -> float:
    drop_caches(cold)
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) * 1000


def pragma(db: Path, name: str) -> Callable[[], Any]:
    def run() -> Any:
        conn = sqlite3.connect(db)
        try:
            return conn.execute(f"PRAGMA {name}").fetchall()
        finally:
            conn.close()

    return run


async def engine_open(db: Path, cold: bool) -> tuple[float, float]:
    """(ms to open as a server does, ms to the first hover's answer)."""
    drop_caches(cold)
    start = time.perf_counter()
    access = StoreAccess(db, Writer(db), PROMPT_VERSION)
    await access.open(StoreRole.SERVE)
    opened = time.perf_counter()
    reads = await access.current_reads()
    assert await reads.hover("pkg/mod_00042.py", 30) is not None
    hovered = time.perf_counter()
    await access.close_reads()
    await access.writer.stop()
    await access.close()
    return (opened - start) * 1000, (hovered - opened) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--cold", action="store_true", help="drop the page cache first (root)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        db = Path(tmp) / ".gloss" / "index.db"
        db.parent.mkdir()
        start = time.perf_counter()
        build(db, args.spans)
        print(
            f"store: {args.spans} spans, {db.stat().st_size / 1e6:.1f} MB, built in "
            f"{time.perf_counter() - start:.1f} s; page cache {'cold' if args.cold else 'warm'}"
        )
        rows = [
            ("inspect (every open)", timed_ms(lambda: inspect(db, SCHEMA_VERSION), args.cold)),
            (
                "inspect + quick_check (gloss index)",
                timed_ms(lambda: full_check(db, SCHEMA_VERSION), args.cold),
            ),
            ("integrity_check (not run)", timed_ms(pragma(db, "integrity_check"), args.cold)),
        ]
        opened_ms, hover_ms = asyncio.run(engine_open(db, args.cold))
        rows += [("server open (check, lock, writer, reads)", opened_ms), ("first hover", hover_ms)]
        width = max(len(name) for name, _ in rows)
        for name, ms in rows:
            print(f"{name:<{width}}  {ms:9.1f} ms")


if __name__ == "__main__":
    main()
