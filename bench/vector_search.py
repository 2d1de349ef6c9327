"""Search with vectors at 10k/100k glosses: the scan's latency, recall and memory.

    python -m bench.vector_search [--sizes 10000 100000] [--queries 200]

For each size, the search bench's generated, glossed workspace
(bench/support/search_workspace.py) is copied, and every gloss is embedded by
the real job (`Engine` with `[search] embeddings`) against the test LLM server,
whose embedding is a deterministic hashed bag of stems (256 dimensions). Then,
for behaviour queries of the search bench's own kind:

- `scan`: `VectorReads.nearest` alone (sign-bit scan of every vector in memory,
  exact re-score of the candidates from their float32 rows), 50 wanted;
- `near`: `Engine._near_by_meaning`: the query embedded over HTTP, then the scan;
- `search`: `Engine.search` with vectors, beside `Store.search` without (words and
  names only), the same queries in the same run;
- `exact`: the floor: one float32 matrix product over every vector in memory;
  `recall@10` is the share of its top 10 the scan returns in its top 10;
- `sqlite-vec` (when `sqlite_vec` and `pysqlite3` are importable): a vec0
  float[256] table of the same vectors, KNN k=50, from a file.

RSS: the process's resident memory before and after the first vector query
(numpy's import plus the in-memory sign bits). The test server runs in this
process (its threads share the GIL), so `near` and `search` carry some of its
cost; `scan` does not.
"""

from __future__ import annotations

import os

# The exact floor is one matrix product; OpenBLAS's threads on a busy 2-core
# machine make it 20x slower and noisy, so it runs on one thread like the scan.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.support.hashed_embedding import hashed_embedding
from bench.support.llm_server import LLMServer
from bench.support.search_workspace import (
    QUERY_KINDS,
    copy_store,
    glossed_workspace,
    make_queries,
    settings_for,
    span_names,
)
from enrich_core.config import parse_config
from enrich_core.run.engine import Engine

EMBED_MODEL = "bench-embed"
WANTED = 50


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(calls: Sequence[Callable[[], Awaitable[Any]]]) -> tuple[list[float], list[Any]]:
    times, results = [], []
    for call in calls:
        start = time.perf_counter()
        results.append(await call())
        times.append((time.perf_counter() - start) * 1000)
    return times, results


def line(name: str, times: Sequence[float], extra: str = "") -> str:
    return f"  {name:<22} p50 {pct(times, 0.5):7.2f} ms  p95 {pct(times, 0.95):7.2f} ms  {extra}"


async def run_size(spans: int, queries: int, workdir: Path) -> None:
    ws = await glossed_workspace(spans)
    store = workdir / f"index-{spans}.db"
    await asyncio.to_thread(copy_store, ws.store, store)
    with LLMServer() as llm:
        settings = settings_for(store, llm.url)
        settings["search"] = {
            "embeddings": {"backend": "bench", "model": EMBED_MODEL, "batch_size": 64}
        }
        engine = Engine(ws.root, parse_config(settings, source="bench"))
        await engine.start()
        try:
            assert engine.meaning is not None
            start = time.perf_counter()
            await asyncio.wait_for(engine.meaning.settled.wait(), 3600)
            embed_s = time.perf_counter() - start
            status = await engine.meaning.status()
            print(
                f"{spans} spans: {status.vectors} of {status.glosses} glosses embedded in "
                f"{embed_s:.1f} s ({status.vectors / max(embed_s, 1e-9):.0f}/s, "
                f"{engine.meaning.requests} requests, the test server's pure-Python embedding)"
            )
            made = make_queries(span_names(store), queries * len(QUERY_KINDS))
            texts = [q.text for q in made if q.kind == "behaviour"][:queries]
            vectors = [hashed_embedding(t) for t in texts]
            reads = engine.meaning.reads

            before = rss_mb()
            await reads.nearest(vectors[0], WANTED)
            after = rss_mb()
            print(
                f"  RSS {before:.0f} MB -> {after:.0f} MB after the first vector query "
                f"(+{after - before:.1f} MB: the sign bits loaded; numpy, imported by this "
                "bench already, adds its own ~14 MB to a server)"
            )

            scan_t, scan_r = await timed(
                [lambda v=v: reads.nearest(v, WANTED) for v in vectors]  # type: ignore[misc]
            )
            matrix, hashes = await asyncio.to_thread(load_all, store)
            exact_t: list[float] = []
            recall: list[float] = []
            for v, got in zip(vectors, scan_r, strict=True):
                q = np.asarray(v, dtype=np.float32)
                start = time.perf_counter()
                top = np.argsort(-(matrix @ q))[:10]
                exact_t.append((time.perf_counter() - start) * 1000)
                truth = {hashes[i] for i in top}
                recall.append(len(truth & set(got[:10])) / 10)
            print(
                line("scan (sign bits+exact)", scan_t, f"recall@10 {statistics.mean(recall):.3f}")
            )
            print(
                line(
                    "exact float32 in RAM",
                    exact_t,
                    f"(holds {matrix.nbytes / 2**20:.0f} MB of vectors)",
                )
            )

            near_t, _ = await timed(
                [lambda t=t: engine._near_by_meaning(t, WANTED) for t in texts]  # type: ignore[misc]
            )
            print(line("near (HTTP+scan)", near_t))
            words_store = await engine._reads()
            words_t, _ = await timed(
                [lambda t=t: words_store.search(t, WANTED) for t in texts]  # type: ignore[misc]
            )
            both_t, _ = await timed(
                [lambda t=t: engine.search(t, WANTED) for t in texts]  # type: ignore[misc]
            )
            print(line("search words only", words_t))
            print(line("search words+vectors", both_t))
            print(sqlite_vec_line(matrix, vectors, workdir / f"vec-{spans}.db"))
        finally:
            await engine.stop()


def load_all(store: Path) -> tuple[np.ndarray[Any, np.dtype[np.float32]], list[str]]:
    import sqlite3

    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT g.content_hash, v.vector FROM gloss_vectors v "
            "JOIN glosses g ON g.id = v.gloss_id"
        ).fetchall()
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    return matrix, [r[0] for r in rows]


def sqlite_vec_line(
    matrix: np.ndarray[Any, np.dtype[np.float32]], queries: Sequence[Sequence[float]], path: Path
) -> str:
    try:
        import pysqlite3  # type: ignore[import-not-found]
        import sqlite_vec  # type: ignore[import-not-found]
    except ImportError:
        return "  sqlite-vec             not installed (pip install sqlite-vec pysqlite3-binary)"
    conn = pysqlite3.connect(str(path))
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    dims = matrix.shape[1]
    conn.execute(
        f"CREATE VIRTUAL TABLE v USING vec0(embedding float[{dims}] distance_metric=cosine)"
    )
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO v (rowid, embedding) VALUES (?, ?)",
        ((i + 1, matrix[i].tobytes()) for i in range(len(matrix))),
    )
    conn.execute("COMMIT")
    times = []
    for q in queries:
        blob = np.asarray(q, dtype=np.float32).tobytes()
        start = time.perf_counter()
        conn.execute(
            "SELECT rowid, distance FROM v WHERE embedding MATCH ? AND k = ?", (blob, WANTED)
        ).fetchall()
        times.append((time.perf_counter() - start) * 1000)
    conn.close()
    return line(f"sqlite-vec {sqlite_vec.__version__}", times, "(vec0 float KNN from a file)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"cpus {os.cpu_count()}, load average {load}, numpy {np.__version__}")
    with tempfile.TemporaryDirectory(prefix="gloss-vector-bench-") as tmp:
        for size in args.sizes:
            await run_size(size, args.queries, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
