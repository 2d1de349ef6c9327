"""What the writer writes: each kind of write as an op, and one batch as one transaction.

An op changes the store in the writer's transaction (`apply`, on the writer's
thread); `apply_batch` runs a batch's ops all or none. `writer.Writer` decides
when a batch is committed.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from enrich_core.records.result import GlossResult
from enrich_core.records.span import Span
from enrich_core.store.db import search_text


class WriteOp(Protocol):
    """One unit of writing. `apply` runs on the writer's thread, inside its transaction."""

    @property
    def rows(self) -> int: ...

    def apply(self, conn: sqlite3.Connection) -> None: ...


@dataclass(frozen=True, slots=True)
class ReplaceFile:
    """A file's current spans replace its old ones; an edited span keeps its old hash as
    `prev_hash`, so the hover can show the old gloss marked stale until the new one lands."""

    path: str
    mtime_ns: int
    size: int
    spans: Sequence[Span]
    # Lines a syntax error kept from being parsed (definitions there may be missing).
    unparsed: str | None = None

    @property
    def rows(self) -> int:
        return len(self.spans) + 1

    def apply(self, conn: sqlite3.Connection) -> None:
        old = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                "SELECT qualname, content_hash, prev_hash FROM spans WHERE path = ?", (self.path,)
            )
        }
        _delete_spans(conn, [self.path])
        rows = []
        for s in self.spans:
            prev: str | None = None
            if s.qualname in old:
                old_hash, old_prev = old[s.qualname]
                if old_hash == s.content_hash:
                    prev = old_prev
                elif old_prev is not None and not _has_gloss(conn, old_hash):
                    # Edited again before the last text was glossed: the gloss
                    # the hover can still show (marked stale) is the older one.
                    prev = old_prev
                else:
                    prev = old_hash
            rows.append(
                (
                    s.path, s.name, s.qualname, s.kind.value, s.container,
                    s.start_line, s.start_col, s.end_line, s.end_col,
                    s.name_line, s.name_col, s.name_end_col, s.header_end_line,
                    s.signature, s.docstring, s.content_hash, prev, s.name.lower(),
                    s.language,
                )
            )  # fmt: skip
        conn.executemany(
            "INSERT INTO spans (path, name, qualname, kind, container, start_line, start_col, "
            "end_line, end_col, name_line, name_col, name_end_col, header_end_line, signature, "
            "docstring, content_hash, prev_hash, name_lower, language) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.execute(
            "INSERT INTO files (path, mtime_ns, size) VALUES (?, ?, ?) ON CONFLICT (path) "
            "DO UPDATE SET mtime_ns = excluded.mtime_ns, size = excluded.size",
            (self.path, self.mtime_ns, self.size),
        )
        conn.execute("DELETE FROM skipped_files WHERE path = ?", (self.path,))
        conn.execute("DELETE FROM partial_files WHERE path = ?", (self.path,))
        if self.unparsed:
            conn.execute(
                "INSERT INTO partial_files (path, note) VALUES (?, ?)", (self.path, self.unparsed)
            )


@dataclass(frozen=True, slots=True)
class SkipFile:
    """A file that was not read, and why; its old spans (if any) go."""

    path: str
    reason: str

    @property
    def rows(self) -> int:
        return 1

    def apply(self, conn: sqlite3.Connection) -> None:
        _delete_spans(conn, [self.path])
        conn.execute("DELETE FROM files WHERE path = ?", (self.path,))
        conn.execute("DELETE FROM partial_files WHERE path = ?", (self.path,))
        conn.execute(
            "INSERT INTO skipped_files (path, reason) VALUES (?, ?) "
            "ON CONFLICT (path) DO UPDATE SET reason = excluded.reason",
            (self.path, self.reason),
        )


@dataclass(frozen=True, slots=True)
class RemoveFiles:
    paths: Sequence[str]

    @property
    def rows(self) -> int:
        return len(self.paths)

    def apply(self, conn: sqlite3.Connection) -> None:
        _delete_spans(conn, self.paths)
        for table in ("files", "skipped_files", "partial_files"):
            conn.executemany(f"DELETE FROM {table} WHERE path = ?", [(p,) for p in self.paths])


@dataclass(frozen=True, slots=True)
class RecordResult:
    """A router result: the gloss a model wrote, or the failure and its reason."""

    result: GlossResult
    prompt_version: str
    gpu_peak_vram_mb: float | None = None
    # The span's first line (0-based). Its facts are stored with lines counted from
    # it, since the row is keyed by the text's hash: the same text moved down a
    # file is read back with its lines where it is now (reads._facts).
    span_line: int = 0

    @property
    def rows(self) -> int:
        return 1

    def apply(self, conn: sqlite3.Connection) -> None:
        RecordResult.apply_many(conn, [self])

    @staticmethod
    def apply_many(conn: sqlite3.Connection, ops: Sequence[RecordResult]) -> None:
        """Consecutive results in one go: a statement per table, the counters summed once."""
        now = time.time()
        glossed = [op for op in ops if op.result.gloss is not None]
        failed = [op for op in ops if op.result.gloss is None]
        if glossed:
            keys = [(op.result.content_hash, op.prompt_version) for op in glossed]
            # Delete + insert rather than REPLACE: REPLACE's implicit delete does not
            # fire the trigger that keeps the full-text index in step.
            conn.executemany(
                "INSERT INTO glosses_fts (glosses_fts, rowid, search_text) "
                "SELECT 'delete', id, search_text FROM glosses "
                "WHERE content_hash = ? AND prompt_version = ?",
                keys,
            )
            conn.executemany(
                "DELETE FROM glosses WHERE content_hash = ? AND prompt_version = ?", keys
            )
            (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM glosses").fetchone()
            conn.executemany(
                "INSERT INTO glosses (content_hash, prompt_version, body, search_text, model, "
                "tier, backend, tokens_in, tokens_out, tokens_estimated, duration_ms, attempts, "
                "escalations, gpu_peak_vram_mb, created_at, first_tier, route, trimmed, "
                "context) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [_gloss_row(op, now) for op in glossed],
            )
            conn.execute(
                "INSERT INTO glosses_fts (rowid, search_text) "
                "SELECT id, search_text FROM glosses WHERE id > ?",
                (top,),
            )
            conn.executemany(
                "DELETE FROM failures WHERE content_hash = ? AND prompt_version = ?", keys
            )
        if failed:
            conn.executemany(
                "INSERT INTO failures (content_hash, prompt_version, reason, attempts, last_at) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (content_hash, prompt_version) DO UPDATE SET "
                "reason = excluded.reason, attempts = attempts + 1, last_at = excluded.last_at",
                [
                    (op.result.content_hash, op.prompt_version, op.result.failure or "", now)
                    for op in failed
                ],
            )
        conn.executemany(
            "INSERT INTO code_facts (content_hash, facts) VALUES (?, ?) "
            "ON CONFLICT (content_hash) DO UPDATE SET facts = excluded.facts",
            [
                (op.result.content_hash, op.result.facts.moved(-op.span_line).to_json())
                for op in ops
                if op.result.facts is not None
            ],
        )
        counts: Counter[str] = Counter()
        for op in ops:
            counts["llm_calls"] += op.result.attempts
            counts["tokens_in"] += op.result.tokens_in
            counts["tokens_out"] += op.result.tokens_out
            counts.update(f"rejected:{reason}" for reason in op.result.rejections)
            for tier, reason in gate_verdicts(op.result):
                counts[f"{GATE_JUDGED}{tier}"] += 1
                if reason is not None:
                    counts[f"{GATE_REJECTED}{reason}:{tier}"] += 1
        conn.executemany(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            sorted(counts.items()),
        )
        conn.executemany(
            "INSERT INTO llm_requests (backend, tier, model, ok, error, ms, tokens_in, "
            "tokens_out, estimated, at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (q.backend, q.tier, q.model, int(q.ok), q.error, q.ms, q.tokens_in,
                 q.tokens_out, int(q.estimated), now)
                for op in ops
                for q in op.result.requests
            ],
        )  # fmt: skip


# Counters of the answers the schema and the gate judged, per tier (run/status.py reads
# them): `gate_judged:TIER` and `gate_rejected:REASON:TIER` (reason names have no colon;
# a tier's name may).
GATE_JUDGED = "gate_judged:"
GATE_REJECTED = "gate_rejected:"


def gate_verdicts(result: GlossResult) -> list[tuple[str, str | None]]:
    """(tier, reason it was rejected, or None: accepted) of each answer the schema and the
    gate judged for this span, in order. A request a host answered is an answer judged
    (the router judges each as it comes and asks again only after a rejection): the last
    one is the gloss when there is one, and the others were rejected, in the order of
    `result.rejections`."""
    answered = [q.tier for q in result.requests if q.ok]
    accepted = answered.pop() if result.gloss is not None and answered else None
    verdicts: list[tuple[str, str | None]] = list(zip(answered, result.rejections, strict=False))
    if accepted is not None:
        verdicts.append((accepted, None))
    return verdicts


def _has_gloss(conn: sqlite3.Connection, content_hash: str) -> bool:
    row = conn.execute("SELECT 1 FROM glosses WHERE content_hash = ? LIMIT 1", (content_hash,))
    return row.fetchone() is not None


def _delete_spans(conn: sqlite3.Connection, paths: Sequence[str]) -> None:
    conn.executemany("DELETE FROM spans WHERE path = ?", [(p,) for p in paths])


def _gloss_row(op: RecordResult, now: float) -> tuple[object, ...]:
    r = op.result
    assert r.gloss is not None
    return (
        r.content_hash, op.prompt_version, r.gloss.to_json(), search_text(r.gloss), r.model,
        r.tier, r.backend, r.tokens_in, r.tokens_out, int(r.tokens_estimated), r.duration_ms,
        r.attempts, "\n".join(r.escalations), op.gpu_peak_vram_mb, now, r.first_tier, r.route,
        r.trimmed, r.context,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Barrier:
    """No rows: its future resolves once everything submitted before it is committed."""

    rows: int = 0

    def apply(self, conn: sqlite3.Connection) -> None:
        return None


@dataclass(frozen=True, slots=True)
class ReplaceStore:
    """No rows: once everything before it is written, the writer closes the store,
    runs `prepare` on its thread (the damaged file is moved aside) and opens a
    fresh one there; everything after it is written to the fresh store."""

    prepare: Callable[[], object]
    rows: int = 0

    def apply(self, conn: sqlite3.Connection) -> None:
        return None


# The operations that change the spans table (every one goes through _delete_spans).
SPAN_OPS = (ReplaceFile, SkipFile, RemoveFiles)


def bump_spans_generation(conn: sqlite3.Connection) -> None:
    """Count a commit that changed the spans, in its own transaction: readers rebuild
    their in-memory name index when this moves (store/searcher.py), not after every
    commit, most of which only add glosses."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('spans_generation', '1') ON CONFLICT (key) "
        "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


def apply_batch(conn: sqlite3.Connection, ops: list[WriteOp]) -> None:
    """One transaction on the writer's thread: all of the batch, or none of it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        i = 0
        while i < len(ops):
            if isinstance(ops[i], RecordResult):
                j = i
                while j < len(ops) and isinstance(ops[j], RecordResult):
                    j += 1
                RecordResult.apply_many(conn, ops[i:j])  # type: ignore[arg-type]
                i = j
            else:
                ops[i].apply(conn)
                i += 1
        if any(isinstance(op, SPAN_OPS) for op in ops):
            bump_spans_generation(conn)
        conn.execute("COMMIT")
    except BaseException:
        # A full disk can fail the COMMIT itself; whatever failed, nothing of the
        # batch stays half-applied (and a failed ROLLBACK must not hide why).
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
