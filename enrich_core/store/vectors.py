"""Gloss embeddings in the store, and the nearest glosses to a query's embedding.

Storage. One row per gloss in `gloss_vectors` (db.py), in the store's own file:
the gloss's row id (so the key is the gloss's content hash + prompt version),
the embedding model, the vector as float32 bytes (L2-normalised) and its sign
bits. Rows are written by the one writer (`StoreVectors`, in its batches, in the
same transactions as everything else), and a trigger deletes a gloss's vector
with the gloss, so replacing or deleting a gloss never leaves an orphan vector.

Search. The sign bits of every vector of the configured model are held in
memory (32 bytes a vector at 256 dimensions, 96 at 768: ~3 MB or ~10 MB at
100,000 glosses) and loaded incrementally by row id. A query's sign bits are
compared with all of them by Hamming distance (XOR and popcount, numpy), the
closest max(MIN_CANDIDATES, CANDIDATES_PER_RESULT x limit) are re-scored exactly
by cosine from their float32 rows, read in one query joined to their glosses,
and the content hashes come back nearest first. Sign bits are the binary
quantisation vector databases use for a first pass: Hamming distance between
them tracks the angle between the vectors, so the candidates hold the true
nearest with high probability, and the exact re-score orders them.

Why not sqlite-vec. It is the well-kept library for vectors in SQLite, and was
measured beside this scan (`python -m bench.vector_search`, 100,000 vectors of
256 dimensions, 2 busy cores): vec0 float KNN, k=50, from a file, p50 59 ms,
p95 110 ms; this scan p50 3 ms, p95 9 ms, recall@10 0.93 of the exact top 10.
Beyond speed, Python's sqlite3 module here (as in many builds) cannot load
extensions, so sqlite-vec would need a second SQLite binding (pysqlite3-binary
or apsw) and a second connection, and its vec0 table could not be written in
the writer's transactions: a gloss and its vector would no longer go together.
numpy is a plain wheel everywhere, imported only when embeddings are configured.

Never here: a request to a model (the run stage embeds; this module stores and
scans), or a write outside the writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from enrich_core.store.health import readonly_uri

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# The closest this many by sign bits (or 8 per result wanted, if more) are
# re-scored exactly: a few hundred float32 rows, one query, well under a millisecond
# of arithmetic.
MIN_CANDIDATES = 512
CANDIDATES_PER_RESULT = 8
# Reloaded whole once this share of the loaded rows is known to be gone (their
# gloss was replaced): the index never holds more dead rows than this.
DEAD_SHARE = 0.1
# Under SQLite's bound-parameter limit.
_CHUNK = 900
# Rows loaded into the index per fetch.
LOAD_ROWS = 8192
T = TypeVar("T")


def as_float32(vector: Sequence[float]) -> npt.NDArray[np.float32]:
    """The vector, L2-normalised, as float32 (all zeros stays zeros)."""
    import numpy as np

    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def sign_bits(vector: npt.NDArray[np.float32]) -> bytes:
    """One bit per dimension (set where positive), padded to whole 64-bit words."""
    import numpy as np

    packed = np.packbits(vector > 0)
    pad = (-len(packed)) % 8
    return packed.tobytes() + b"\0" * pad


@dataclass(frozen=True, slots=True)
class GlossToEmbed:
    gloss_id: int
    content_hash: str
    body: str  # the gloss's JSON


@dataclass(frozen=True, slots=True)
class StoreVectors:
    """A writer op: these glosses' vectors (each kept only if its gloss still exists)."""

    model: str
    vectors: Sequence[tuple[int, bytes, bytes]]  # (gloss id, sign bits, float32 bytes)

    @property
    def rows(self) -> int:
        return len(self.vectors)

    def apply(self, conn: sqlite3.Connection) -> None:
        # A gloss replaced since it was read has another id: its vector is not written.
        conn.executemany(
            "INSERT OR REPLACE INTO gloss_vectors (gloss_id, model, code, vector) "
            "SELECT id, ?, ?, ? FROM glosses WHERE id = ?",
            [(self.model, code, vector, gloss_id) for gloss_id, code, vector in self.vectors],
        )


def glosses_to_embed(
    conn: sqlite3.Connection, prompt_version: str, model: str, after_id: int, limit: int
) -> list[GlossToEmbed]:
    """Current-prompt glosses of spans still in the workspace with no vector of `model`,
    by row id after `after_id` (a cursor: a pass over the store reads each gloss once)."""
    rows = conn.execute(
        "SELECT g.id, g.content_hash, g.body FROM glosses g "
        "LEFT JOIN gloss_vectors v ON v.gloss_id = g.id AND v.model = ? "
        "WHERE g.id > ? AND g.prompt_version = ? AND v.id IS NULL "
        "AND EXISTS (SELECT 1 FROM spans s WHERE s.content_hash = g.content_hash) "
        "ORDER BY g.id LIMIT ?",
        (model, after_id, prompt_version, limit),
    ).fetchall()
    return [GlossToEmbed(int(r[0]), r[1], r[2]) for r in rows]


def vector_counts(conn: sqlite3.Connection, prompt_version: str, model: str) -> tuple[int, int]:
    """(current glosses of spans in the workspace, how many of them have a vector of `model`)."""
    row = conn.execute(
        "SELECT count(*), coalesce(sum(v.id IS NOT NULL), 0) FROM glosses g "
        "LEFT JOIN gloss_vectors v ON v.gloss_id = g.id AND v.model = ? "
        "WHERE g.prompt_version = ? "
        "AND EXISTS (SELECT 1 FROM spans s WHERE s.content_hash = g.content_hash)",
        (model, prompt_version),
    ).fetchone()
    return int(row[0]), int(row[1])


class VectorIndex:
    """The sign bits of one model's vectors, in memory, and the nearest-gloss scan.

    Used from one thread at a time (the store's reads thread)."""

    def __init__(self, model: str, prompt_version: str) -> None:
        import numpy as np

        self.model = model
        self.prompt_version = prompt_version
        self._np = np
        self._ids = np.empty(0, dtype=np.int64)
        # One row per 64-bit word of the sign bits, one column per vector: the scan
        # XORs and counts a word of every vector at a time (measured 5x faster than
        # row by row with a sum across).
        self._codes = np.empty((0, 0), dtype=np.uint64)
        self._last_id = 0
        self._dead = 0
        self._conn: sqlite3.Connection | None = None  # the connection the rows came from

    def __len__(self) -> int:
        return len(self._ids)

    def refresh(self, conn: sqlite3.Connection) -> None:
        """Load the rows written since the last look (all of them for a new connection,
        which is a new or replaced store file, or after too many dead rows)."""
        np = self._np
        if conn is not self._conn or self._dead > DEAD_SHARE * max(1, len(self._ids)):
            self._conn = conn
            self._ids = np.empty(0, dtype=np.int64)
            self._codes = np.empty((0, 0), dtype=np.uint64)
            self._last_id = 0
            self._dead = 0
        cursor = conn.execute(
            "SELECT v.id, v.code FROM gloss_vectors v JOIN glosses g ON g.id = v.gloss_id "
            "WHERE v.id > ? AND v.model = ? AND g.prompt_version = ? ORDER BY v.id",
            (self._last_id, self.model, self.prompt_version),
        )
        # A bounded number of rows as Python objects at a time: loading 100,000 at once
        # would leave their memory with the process long after.
        while rows := cursor.fetchmany(LOAD_ROWS):
            self._append(rows)
            self._last_id = int(rows[-1][0])

    def _append(self, rows: list[Any]) -> None:
        np = self._np
        width = len(rows[-1][1])
        rows = [r for r in rows if len(r[1]) == width]  # another dimension: not comparable
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        codes = np.ascontiguousarray(
            np.frombuffer(b"".join(r[1] for r in rows), dtype=np.uint64)
            .reshape(len(rows), width // 8)
            .T
        )
        if len(self._ids) and self._codes.shape[0] == codes.shape[0]:
            self._ids = np.concatenate([self._ids, ids])
            self._codes = np.concatenate([self._codes, codes], axis=1)
        else:  # the first rows, or the model's dimension changed
            self._ids, self._codes = ids, codes

    def nearest(self, conn: sqlite3.Connection, query: Sequence[float], limit: int) -> list[str]:
        """Content hashes of current glosses nearest `query`, nearest first, at most `limit`."""
        np = self._np
        self.refresh(conn)
        if limit <= 0 or not len(self._ids):
            return []
        q = as_float32(query)
        q_code = np.frombuffer(sign_bits(q), dtype=np.uint64)
        if q_code.shape[0] != self._codes.shape[0]:
            return []  # the query's model answers in another dimension than the stored
        distance = np.bitwise_count(self._codes[0] ^ q_code[0]).astype(np.uint16)
        for word in range(1, len(q_code)):
            distance += np.bitwise_count(self._codes[word] ^ q_code[word])
        n = max(MIN_CANDIDATES, CANDIDATES_PER_RESULT * limit)
        picked = _closest(np, distance, n)
        ids = [int(i) for i in self._ids[picked]]
        hashes: list[str] = []
        blobs: list[bytes] = []
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for content_hash, blob in conn.execute(
                f"SELECT g.content_hash, v.vector FROM gloss_vectors v "
                f"JOIN glosses g ON g.id = v.gloss_id AND g.prompt_version = ? "
                f"WHERE v.id IN ({marks})",
                (self.prompt_version, *chunk),
            ):
                if len(blob) == q.nbytes:
                    hashes.append(content_hash)
                    blobs.append(blob)
        self._dead += len(ids) - len(hashes)
        if not hashes:
            return []
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)
        # Not `matrix @ q`: a few hundred rows are no work for BLAS, whose threads,
        # on a busy machine, cost 20x the product itself (measured on 2 cores).
        scores = (matrix * q).sum(axis=1)
        out: list[str] = []
        seen: set[str] = set()
        for i in np.argsort(-scores, kind="stable"):
            h = hashes[int(i)]
            if h not in seen:
                seen.add(h)
                out.append(h)
                if len(out) >= limit:
                    break
        return out


def _closest(np: Any, distance: npt.NDArray[np.uint16], n: int) -> npt.NDArray[np.intp]:
    """Positions of the `n` smallest distances (ties at the edge: the first found).
    Distances are small integers, so a histogram finds the cut (faster than a partial
    sort: measured ~10x at 100,000)."""
    if n >= len(distance):
        everything: npt.NDArray[np.intp] = np.arange(len(distance))
        return everything
    cut = int(np.searchsorted(np.cumsum(np.bincount(distance)), n))
    inside = np.flatnonzero(distance < cut)
    edge = np.flatnonzero(distance == cut)[: n - len(inside)]
    result: npt.NDArray[np.intp] = np.concatenate([inside, edge])
    return result


class VectorReads:
    """Vector reads of one store file, on a thread and a read-only connection of their own,
    so a scan never holds up a hover or a name search on the store's other reads.

    The file is looked at (one stat) before each read: a store moved aside and made
    afresh is a new file, and its index is loaded anew. No file, or a store from
    before vectors that cannot be written, reads as no vectors."""

    def __init__(self, db_path: Path, model: str, prompt_version: str) -> None:
        self.db_path = db_path
        self.model = model
        self.prompt_version = prompt_version
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="gloss-vectors")
        self._conn: sqlite3.Connection | None = None
        self._inode: int | None = None
        self._index: VectorIndex | None = None
        self._closed = False

    async def nearest(self, query: Sequence[float], limit: int) -> list[str]:
        return await self._run(lambda conn: self._index_for().nearest(conn, query, limit), [])

    async def to_embed(self, after_id: int, limit: int) -> list[GlossToEmbed]:
        return await self._run(
            lambda conn: glosses_to_embed(conn, self.prompt_version, self.model, after_id, limit),
            [],
        )

    async def counts(self) -> tuple[int, int]:
        """(current glosses of spans in the workspace, how many have a vector)."""
        return await self._run(
            lambda conn: vector_counts(conn, self.prompt_version, self.model), (0, 0)
        )

    async def close(self) -> None:
        def close() -> None:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=True)

    def _index_for(self) -> VectorIndex:
        if self._index is None:
            self._index = VectorIndex(self.model, self.prompt_version)
        return self._index

    async def _run(self, work: Callable[[sqlite3.Connection], T], nothing: T) -> T:
        def run() -> T:
            conn = self._connection()
            if conn is None:
                return nothing
            try:
                return work(conn)
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return nothing  # a store from before vectors, opened read-only
                raise

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    def _connection(self) -> sqlite3.Connection | None:
        if self._closed:
            return None
        try:
            inode = self.db_path.stat().st_ino
        except OSError:
            return self._conn  # gone for a moment (being replaced): keep what is open
        if self._conn is not None and inode == self._inode:
            return self._conn
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._conn = sqlite3.connect(readonly_uri(self.db_path), uri=True)
        self._conn.execute("PRAGMA busy_timeout = 5000")
        self._inode = inode
        return self._conn
