"""The read side of the store: records, and every query hover, search and status run.

One database per workspace, in WAL mode so readers (hover, workspace/symbol,
`gloss status`) never wait on the writer. Glosses are keyed by the span's
content hash and the prompt version, so a moved or renamed span costs no
model call. This module only reads; all writes go through `writer.Writer`.
Search (names in memory, gloss text through a porter-stemmed FTS5 index, so
"parse yaml" finds `load_config`) is enrich_core.store.search; it and hover
read on the event loop's thread through its `Searcher`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from enrich_core.records.facts import CodeFacts
from enrich_core.records.gloss import Gloss
from enrich_core.records.span import SpanKind, SpanRecord
from enrich_core.records.status import LanguageCounts, SpanCounts
from enrich_core.store.callees import CalleeGlosses, read_callee_glosses
from enrich_core.store.db import SCHEMA, connect, connect_empty
from enrich_core.store.health import readonly_uri
from enrich_core.store.search import (
    MAX_QUERY_CHARS,
    MAX_QUERY_TERMS,
    SearchHit,
    query_refusal,
)
from enrich_core.store.searcher import Searcher

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "GlossRecord",
    "HoverInfo",
    "SearchHit",
    "Store",
    "Unglossed",
    "query_refusal",
]

SPAN_COLUMNS = (
    "path, name, qualname, kind, container, start_line, start_col, end_line, end_col, "
    "name_line, name_col, name_end_col, header_end_line, signature, docstring, "
    "content_hash, language, prev_hash"
)
_HASH_COLUMN = [c.strip() for c in SPAN_COLUMNS.split(",")].index("content_hash")


@dataclass(frozen=True, slots=True)
class GlossRecord:
    gloss: Gloss
    model: str
    tier: str
    backend: str
    tokens_in: int
    tokens_out: int
    duration_ms: float
    attempts: int
    created_at: float
    trimmed: str | None = None  # "kept 180 of 900 lines" when written from a trimmed view
    escalations: tuple[str, ...] = ()
    # The context parts its prompt carried beside the code, and any its budget dropped.
    context: str | None = None


@dataclass(frozen=True, slots=True)
class HoverInfo:
    span: SpanRecord
    gloss: GlossRecord | None  # the current gloss, or the previous text's when stale
    stale: bool  # gloss was written for an older text of this span
    failure: str | None  # why the current text has no gloss, when it failed
    failure_attempts: int = 0
    # The shown gloss is of this text but was written by this older prompt version:
    # shown until the current prompt's gloss is written (lazily, see Engine.scan).
    older_prompt: str | None = None
    # What the current text's code does, read from it (not by a model): None until a
    # result for this text is written.
    facts: CodeFacts | None = None


@dataclass(frozen=True, slots=True)
class Unglossed:
    """A span whose current text has no gloss under the current prompt."""

    span: SpanRecord
    attempts: int  # failures so far
    last_try: float | None  # when it last failed
    older_gloss: bool  # glossed by an older prompt version: a refresh, not new work
    file_mtime_ns: int


GLOSS_COLUMNS = (
    "body, model, tier, backend, tokens_in, tokens_out, duration_ms, attempts, created_at, "
    "trimmed, escalations, context"
)


def _span(row: Any) -> SpanRecord:
    """A row of SPAN_COLUMNS, in that order."""
    return SpanRecord(row[0], row[1], row[2], SpanKind(row[3]), *row[4:])


def _gloss_record(row: Any) -> GlossRecord:
    return GlossRecord(
        gloss=Gloss.from_json(row[0]),
        model=row[1],
        tier=row[2],
        backend=row[3],
        tokens_in=row[4],
        tokens_out=row[5],
        duration_ms=row[6],
        attempts=row[7],
        created_at=row[8],
        trimmed=row[9],
        escalations=tuple(row[10].split("\n")) if row[10] else (),
        context=row[11],
    )


class Store:
    """Read side of the database. Every method is one short query; none waits on a model."""

    def __init__(self, conn: aiosqlite.Connection, prompt_version: str, searcher: Searcher) -> None:
        self._conn = conn
        self.prompt_version = prompt_version
        # Search and hover, the reads a user waits on, run on a thread of their own.
        self._searcher = searcher

    @classmethod
    async def open(cls, db_path: Path, prompt_version: str) -> Store:
        """Reads of the store at `db_path`, through connections that never write it."""
        conn = await connect(db_path, readonly=True)
        uri = await asyncio.to_thread(readonly_uri, db_path)

        def connect_reads() -> sqlite3.Connection:
            reads = sqlite3.connect(uri, uri=True, check_same_thread=False)
            reads.execute("PRAGMA busy_timeout = 5000")
            return reads

        searcher = Searcher(connect_reads, prompt_version)
        searcher.start()
        return cls(conn, prompt_version, searcher)

    @classmethod
    async def empty(cls, prompt_version: str) -> Store:
        """No store to read (none yet, or one that cannot be used): every read answers
        nothing, and the reason is the engine's to tell."""

        def connect_reads() -> sqlite3.Connection:
            reads = sqlite3.connect(":memory:", check_same_thread=False)
            reads.executescript(SCHEMA)
            return reads

        return cls(await connect_empty(), prompt_version, Searcher(connect_reads, prompt_version))

    async def close(self) -> None:
        await self._searcher.close()
        await self._conn.close()

    async def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        async with self._conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        async with self._conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def file_stamps(self) -> dict[str, tuple[int, int]]:
        rows = await self._all("SELECT path, mtime_ns, size FROM files")
        return {r[0]: (r[1], r[2]) for r in rows}

    async def spans_in_file(self, path: str) -> list[SpanRecord]:
        rows = await self._all(
            f"SELECT {SPAN_COLUMNS} FROM spans WHERE path = ? ORDER BY start_line", (path,)
        )
        return [_span(r) for r in rows]

    async def glossed_hashes(self, hashes: Iterable[str]) -> set[str]:
        """Which of these texts have a gloss under the current prompt."""
        return await self._present("glosses", hashes, "prompt_version = ?", self.prompt_version)

    async def hashes_with_history(self, hashes: Iterable[str]) -> set[str]:
        """Which of these texts have a gloss under any prompt, or a failure under this one."""
        listed = list(hashes)
        glossed = await self._present("glosses", listed, "prompt_version != ?", "")
        failed = await self._present("failures", listed, "prompt_version = ?", self.prompt_version)
        return glossed | failed

    async def hashes_elsewhere(self, hashes: Iterable[str], path: str) -> set[str]:
        """Which of these texts are also spans of another file."""
        return await self._present("spans", hashes, "path != ?", path)

    async def _present(self, table: str, hashes: Iterable[str], where: str, arg: str) -> set[str]:
        found: set[str] = set()
        listed = list(hashes)
        for i in range(0, len(listed), 500):  # under SQLite's bound-parameter limit
            chunk = listed[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self._all(
                f"SELECT DISTINCT content_hash FROM {table} "
                f"WHERE content_hash IN ({marks}) AND {where}",
                (*chunk, arg),
            )
            found.update(r[0] for r in rows)
        return found

    async def unglossed_spans(self, skip: Collection[str] = frozenset()) -> list[Unglossed]:
        """Spans whose current text has no gloss under this prompt, in file order; those
        whose content hash is in `skip` are left out before any record is made (after a
        first scan that queued every span as it went, all 11,000 of Django's are)."""
        pv = self.prompt_version
        rows = await self._all(
            f"SELECT {', '.join('s.' + c.strip() for c in SPAN_COLUMNS.split(','))}, "
            "coalesce(f.attempts, 0), f.last_at, "
            "EXISTS (SELECT 1 FROM glosses o WHERE o.content_hash = s.content_hash), "
            "coalesce(fi.mtime_ns, 0) "
            "FROM spans s LEFT JOIN glosses g "
            "ON g.content_hash = s.content_hash AND g.prompt_version = ? "
            "LEFT JOIN failures f ON f.content_hash = s.content_hash AND f.prompt_version = ? "
            "LEFT JOIN files fi ON fi.path = s.path "
            "WHERE g.id IS NULL ORDER BY s.path, s.start_line",
            (pv, pv),
        )
        return [
            Unglossed(_span(r[:-4]), int(r[-4]), r[-3], bool(r[-2]), int(r[-1]))
            for r in rows
            if r[_HASH_COLUMN] not in skip
        ]

    async def span_at(self, path: str, line: int) -> SpanRecord | None:
        """The innermost span whose lines hold `line` (a method, not its class)."""
        row = await self._one(
            f"SELECT {SPAN_COLUMNS} FROM spans WHERE path = ? AND start_line <= ? "
            "AND end_line >= ? ORDER BY start_line DESC LIMIT 1",
            (path, line, line),
        )
        return _span(row) if row is not None else None

    async def hover(self, path: str, line: int) -> HoverInfo | None:
        """The span whose header (decorators through the `def`/`class` line) holds `line`.
        A few indexed rows, read on the event loop's thread (`Searcher.run_inline`)."""

        def read(conn: sqlite3.Connection) -> HoverInfo | None:
            return _hover(conn, path, line, self.prompt_version)

        try:
            return self._searcher.run_inline(read)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            return await self._searcher.run(read)

    async def callee_glosses(
        self, hashes: Collection[str], names: Collection[str], outside: str
    ) -> CalleeGlosses:
        """The glosses of a span's callees (store/callees.py), read on the reads' thread."""
        pv = self.prompt_version
        return await self._searcher.run(
            lambda conn: read_callee_glosses(conn, hashes, names, outside, pv)
        )

    async def hover_for(self, span: SpanRecord) -> HoverInfo:
        return await self._searcher.run(lambda conn: _hover_for(conn, span, self.prompt_version))

    async def search(
        self, query: str, limit: int = 50, near: Sequence[str] = (), *, names_first: bool = False
    ) -> list[SearchHit]:
        """Symbols by name, by gloss text and (`near`: content hashes of glosses nearest
        the query's meaning, nearest first) by meaning, fused best first; the rule is in
        enrich_core.store.search. A query beyond the bounds (`query_refusal`) finds nothing.
        `names_first`: gloss text is not searched when names alone fill the limit."""
        return await self._searcher.search(query, limit, near, names_first=names_first)

    def refresh_names(self) -> None:
        """Writes have settled (a scan is stored): rebuild the name index now rather than
        when the next search finds the store changed (Searcher.refresh)."""
        self._searcher.refresh()

    async def text_count(self) -> int:
        """How many different texts the spans have: spans of one text share one gloss."""
        row = await self._one("SELECT count(DISTINCT content_hash) FROM spans")
        return int(row[0])

    async def status_counts(self) -> SpanCounts:
        pv = self.prompt_version
        row = await self._one(
            "SELECT count(*), "
            "coalesce(sum(g.id IS NOT NULL), 0), "
            "coalesce(sum(g.id IS NULL AND f.content_hash IS NOT NULL), 0), "
            "coalesce(sum(g.id IS NULL AND pg.id IS NOT NULL), 0), "
            "coalesce(sum(CASE WHEN g.id IS NULL THEN EXISTS (SELECT 1 FROM glosses o "
            "WHERE o.content_hash = s.content_hash) ELSE 0 END), 0) "
            "FROM spans s "
            "LEFT JOIN glosses g ON g.content_hash = s.content_hash AND g.prompt_version = ? "
            "LEFT JOIN failures f ON f.content_hash = s.content_hash AND f.prompt_version = ? "
            "LEFT JOIN glosses pg ON pg.content_hash = s.prev_hash AND pg.prompt_version = ?",
            (pv, pv, pv),
        )
        spans, enriched, failed, stale, outdated = (int(v) for v in row)
        counters = dict(await self._all("SELECT name, value FROM counters"))
        files = await self._one("SELECT count(*) FROM files")
        return SpanCounts(
            files=int(files[0]),
            spans=spans,
            enriched=enriched,
            pending=spans - enriched - failed,
            failed=failed,
            stale=stale,
            outdated=outdated,
            llm_calls=int(counters.get("llm_calls", 0)),
            tokens_in=int(counters.get("tokens_in", 0)),
            tokens_out=int(counters.get("tokens_out", 0)),
        )

    async def failure_reasons(self, limit: int = 5) -> list[tuple[str, int]]:
        """The commonest reasons current spans have no gloss, with how many spans each."""
        rows = await self._all(
            "SELECT f.reason, count(*) FROM spans s JOIN failures f "
            "ON f.content_hash = s.content_hash AND f.prompt_version = ? "
            "LEFT JOIN glosses g ON g.content_hash = s.content_hash AND g.prompt_version = ? "
            "WHERE g.id IS NULL GROUP BY f.reason ORDER BY count(*) DESC LIMIT ?",
            (self.prompt_version, self.prompt_version, limit),
        )
        return [(r[0], int(r[1])) for r in rows]

    async def by_language(self) -> dict[str, LanguageCounts]:
        """Spans per language, and how many have a gloss of the current prompt."""
        rows = await self._all(
            "SELECT s.language, count(*), coalesce(sum(g.id IS NOT NULL), 0) FROM spans s "
            "LEFT JOIN glosses g ON g.content_hash = s.content_hash AND g.prompt_version = ? "
            "GROUP BY s.language ORDER BY count(*) DESC, s.language",
            (self.prompt_version,),
        )
        return {r[0]: LanguageCounts(spans=int(r[1]), enriched=int(r[2])) for r in rows}

    async def by_tier(self) -> dict[str, int]:
        rows = await self._all(
            "SELECT tier, count(*) FROM glosses WHERE prompt_version = ? "
            "GROUP BY tier ORDER BY tier",
            (self.prompt_version,),
        )
        return {r[0]: int(r[1]) for r in rows}

    async def request_totals(self) -> list[tuple[str, str, int, int, int, int]]:
        """Per (backend, tier): requests answered, requests failed, tokens in, tokens out."""
        rows = await self._all(
            "SELECT backend, tier, sum(ok), sum(1 - ok), sum(tokens_in), sum(tokens_out) "
            "FROM llm_requests GROUP BY backend, tier ORDER BY backend, tier"
        )
        return [(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows]

    async def request_errors(self) -> dict[str, int]:
        rows = await self._all(
            "SELECT error, count(*) FROM llm_requests WHERE ok = 0 GROUP BY error ORDER BY error"
        )
        return {r[0]: int(r[1]) for r in rows}

    async def latency_percentiles(self, backend: str, quantiles: tuple[float, ...]) -> list[float]:
        """Answered-request latencies (ms) at the given quantiles, by the index, no full scan."""
        (n,) = await self._one(
            "SELECT count(*) FROM llm_requests WHERE backend = ? AND ok = 1", (backend,)
        )
        out = []
        for q in quantiles:
            if n == 0:
                out.append(0.0)
                continue
            row = await self._one(
                "SELECT ms FROM llm_requests WHERE backend = ? AND ok = 1 "
                "ORDER BY ms LIMIT 1 OFFSET ?",
                (backend, min(n - 1, int(q * n))),
            )
            out.append(float(row[0]))
        return out

    async def escalation_counts(self) -> tuple[int, int]:
        """(glosses written, glosses written by a tier other than their first)."""
        row = await self._one(
            "SELECT count(*), coalesce(sum(first_tier IS NOT NULL AND first_tier != tier), 0) "
            "FROM glosses WHERE prompt_version = ?",
            (self.prompt_version,),
        )
        return int(row[0]), int(row[1])

    async def counters_with_prefix(self, prefix: str) -> dict[str, int]:
        rows = await self._all(
            "SELECT name, value FROM counters WHERE name >= ? AND name < ? ORDER BY name",
            (prefix, prefix + "\U0010ffff"),
        )
        return {r[0][len(prefix) :]: int(r[1]) for r in rows}

    async def skipped_files(self) -> dict[str, str]:
        rows = await self._all("SELECT path, reason FROM skipped_files ORDER BY path")
        return {r[0]: r[1] for r in rows}

    async def partial_files(self) -> dict[str, str]:
        """Files read only in part: path -> which lines could not be parsed."""
        try:
            rows = await self._all("SELECT path, note FROM partial_files ORDER BY path")
        except sqlite3.OperationalError:
            return {}  # a read-only store from before the table: nothing recorded
        return {r[0]: r[1] for r in rows}


def _hover(conn: sqlite3.Connection, path: str, line: int, pv: str) -> HoverInfo | None:
    row = conn.execute(
        f"SELECT {SPAN_COLUMNS} FROM spans WHERE path = ? AND start_line <= ? "
        "AND header_end_line >= ? ORDER BY start_line DESC LIMIT 1",
        (path, line, line),
    ).fetchone()
    return _hover_for(conn, _span(row), pv) if row is not None else None


def _hover_for(conn: sqlite3.Connection, span: SpanRecord, pv: str) -> HoverInfo:
    return dataclasses.replace(_hover_gloss(conn, span, pv), facts=_facts(conn, span))


def _facts(conn: sqlite3.Connection, span: SpanRecord) -> CodeFacts | None:
    """The facts of the span's text, their lines moved to where the span is now."""
    try:
        row = conn.execute(
            "SELECT facts FROM code_facts WHERE content_hash = ?", (span.content_hash,)
        ).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None  # a store written before facts, read where it cannot gain the table
        raise
    if row is None:
        return None
    try:
        return CodeFacts.from_json(row[0]).moved(span.start_line)
    except (ValueError, KeyError, TypeError):
        # Written by a newer Gloss (a kind of effect this one does not know): the hover
        # goes without the facts rather than fail.
        return None


def _hover_gloss(conn: sqlite3.Connection, span: SpanRecord, pv: str) -> HoverInfo:
    row = conn.execute(
        f"SELECT {GLOSS_COLUMNS} FROM glosses WHERE content_hash = ? AND prompt_version = ?",
        (span.content_hash, pv),
    ).fetchone()
    if row is not None:
        return HoverInfo(span=span, gloss=_gloss_record(row), stale=False, failure=None)
    failure = conn.execute(
        "SELECT reason, attempts FROM failures WHERE content_hash = ? AND prompt_version = ?",
        (span.content_hash, pv),
    ).fetchone()
    old = None
    if span.prev_hash:
        old = conn.execute(
            f"SELECT {GLOSS_COLUMNS} FROM glosses WHERE content_hash = ? AND prompt_version = ?",
            (span.prev_hash, pv),
        ).fetchone()
    if old is None:
        older = conn.execute(
            f"SELECT {GLOSS_COLUMNS}, prompt_version FROM glosses WHERE content_hash = ? "
            "ORDER BY created_at DESC LIMIT 1",
            (span.content_hash,),
        ).fetchone()
        if older is not None:
            return HoverInfo(
                span=span,
                gloss=_gloss_record(older),
                stale=False,
                failure=failure[0] if failure else None,
                failure_attempts=failure[1] if failure else 0,
                older_prompt=older[-1],
            )
    return HoverInfo(
        span=span,
        gloss=_gloss_record(old) if old is not None else None,
        stale=old is not None,
        failure=failure[0] if failure else None,
        failure_attempts=failure[1] if failure else 0,
    )
