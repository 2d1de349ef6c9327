"""The vector store and scan (store/vectors.py) on a real SQLite file: nearest glosses
match an exact scan, new rows are found, a deleted gloss takes its vector with it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from enrich_core.store.db import open_for_writing
from enrich_core.store.vectors import (
    StoreVectors,
    VectorIndex,
    VectorReads,
    as_float32,
    sign_bits,
)

PV = "1"
MODEL = "m"
DIMS = 256


def add_glosses(conn: sqlite3.Connection, hashes: list[str]) -> list[int]:
    ids = []
    for h in hashes:
        cur = conn.execute(
            "INSERT INTO glosses (content_hash, prompt_version, body, search_text, model, tier, "
            "backend, tokens_in, tokens_out, tokens_estimated, duration_ms, attempts, "
            "escalations, created_at) VALUES (?, ?, '{}', '', 'x', 't', 'b', 0, 0, 0, 0, 1, '', 0)",
            (h, PV),
        )
        assert cur.lastrowid is not None
        ids.append(cur.lastrowid)
    return ids


def store_vectors(conn: sqlite3.Connection, ids: list[int], vectors: np.ndarray) -> None:
    rows = []
    for gloss_id, vector in zip(ids, vectors, strict=True):
        v = as_float32(vector.tolist())
        rows.append((gloss_id, sign_bits(v), v.tobytes()))
    conn.execute("BEGIN")
    StoreVectors(MODEL, rows).apply(conn)
    conn.execute("COMMIT")


def clustered(rng: np.random.Generator, n: int, centres: np.ndarray) -> np.ndarray:
    picks = rng.integers(0, len(centres), n)
    points: np.ndarray = centres[picks] + 0.6 * rng.standard_normal((n, centres.shape[1]))
    unit: np.ndarray = points / np.linalg.norm(points, axis=1, keepdims=True)
    return unit


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = open_for_writing(tmp_path / "index.db")
    yield conn
    conn.close()


def test_the_nearest_are_the_exact_nearest(db: sqlite3.Connection) -> None:
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((40, DIMS))
    data = clustered(rng, 4000, centres)
    hashes = [f"h{i}" for i in range(len(data))]
    store_vectors(db, add_glosses(db, hashes), data)
    index = VectorIndex(MODEL, PV)
    recall = []
    for query in clustered(rng, 30, centres):
        got = index.nearest(db, query.tolist(), 10)
        exact = [hashes[i] for i in np.argsort(-(data @ query))[:10]]
        assert len(got) == 10
        recall.append(len(set(got) & set(exact)) / 10)
        assert got[0] == exact[0]  # the nearest is always found
    assert np.mean(recall) >= 0.95


def test_rows_written_later_are_found_and_a_deleted_gloss_takes_its_vector(
    db: sqlite3.Connection,
) -> None:
    rng = np.random.default_rng(1)
    first = rng.standard_normal((50, DIMS))
    ids = add_glosses(db, [f"a{i}" for i in range(50)])
    store_vectors(db, ids, first)
    index = VectorIndex(MODEL, PV)
    assert index.nearest(db, first[3].tolist(), 1) == ["a3"]

    later = rng.standard_normal((1, DIMS))
    store_vectors(db, add_glosses(db, ["b0"]), later)
    assert index.nearest(db, later[0].tolist(), 1) == ["b0"]  # loaded by its new row id

    db.execute("DELETE FROM glosses WHERE content_hash = 'a3'")
    (left,) = db.execute(
        "SELECT count(*) FROM gloss_vectors WHERE gloss_id = ?", (ids[3],)
    ).fetchone()
    assert left == 0  # the trigger: no vector outlives its gloss
    assert "a3" not in index.nearest(db, first[3].tolist(), 5)


def test_a_vector_for_a_gloss_replaced_meanwhile_is_not_written(db: sqlite3.Connection) -> None:
    (gloss_id,) = add_glosses(db, ["h"])
    db.execute("DELETE FROM glosses WHERE id = ?", (gloss_id,))
    store_vectors(db, [gloss_id], np.ones((1, DIMS)))
    assert db.execute("SELECT count(*) FROM gloss_vectors").fetchone() == (0,)


def test_another_model_or_dimension_is_not_compared(db: sqlite3.Connection) -> None:
    store_vectors(db, add_glosses(db, ["h"]), np.ones((1, DIMS)))
    assert VectorIndex("other-model", PV).nearest(db, [1.0] * DIMS, 5) == []
    assert VectorIndex(MODEL, PV).nearest(db, [1.0] * 384, 5) == []
    assert VectorIndex(MODEL, PV).nearest(db, [1.0] * DIMS, 5) == ["h"]


async def test_reads_of_a_store_without_the_file_find_nothing(tmp_path: Path) -> None:
    reads = VectorReads(tmp_path / "none.db", MODEL, PV)
    try:
        assert await reads.nearest([1.0] * DIMS, 5) == []
        assert await reads.counts() == (0, 0)
    finally:
        await reads.close()
