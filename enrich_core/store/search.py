"""Search: symbols by name, by what their gloss says, and by meaning, fused into one list.

What `gloss/search`, workspace/symbol and `gloss search` answer. A query is
plain text: nothing in it is ever read as FTS5 or SQL syntax (quotes, `*`,
`NEAR`, `AND`, `:`, `^`, `%`, `-` are just characters); a query past the
bounds (`query_refusal`) finds nothing.

The ranking rule
----------------
Three ranked lists of spans are made, each best first:

1. **name**: tiers in this order (names.NameTier): exact (ignoring case), prefix,
   word (the query starts a word inside the name: `config` in `load_config`),
   substring, subsequence (`ldcfg` -> `load_config`), misspelt (an edit distance
   of 1, or 2 from 8 characters: `laod_config`). Within a tier: a name equal
   to the query with its case ranks first (`execute` above `Execute`), then
   the tighter match (shorter name; fewer edits; a subsequence spread over
   fewer characters), then the tie-breakers below. A query of several words
   is matched as one name joined by `_` (`load config` -> `load_config`).
2. **gloss**: the porter-stemmed full-text index of each gloss's summary,
   tags, inputs and outputs (every word as a prefix, all words required; if
   that finds nothing, any word), by FTS5's bm25.
3. **meaning**: the content hashes of the glosses nearest the query's
   embedding, when the caller has them (`near`; see Engine._near_by_meaning).

They are fused by reciprocal rank fusion: a span at 1-based rank r in a list
scores 1 / (60 + r) from it, summed over the lists it is in. A span whose
name equals the query (ignoring case) scores 1 more: what the user typed
exactly comes first. Ties of score go to name evidence, then to the more
recently edited file (files.mtime_ns), then by kind (functions and types
before methods: a method is usually reached through its type), then by path
and line. The same tie-breakers order equal matches inside each list.

`matched` says which of the name and gloss lists found the span ("name",
"gloss", "both"); a span found only by meaning counts as "gloss".

Reads run on one thread of their own with a plain sqlite3 connection, so a
query is one hop off the event loop however many statements it runs.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from enrich_core.records.span import SpanKind, SpanRecord
from enrich_core.store.names import (
    NameIndex,
    NameTier,
    edit_distance,
    is_word_start,
    misspelling_bound,
    name_query,
    subsequence_chars,
    trigrams,
)

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "RRF_K",
    "SearchHit",
    "Searcher",
    "first_sentence",
    "query_refusal",
]

T = TypeVar("T")

# A search query is a name, a qualified name or a few words of what a gloss
# says; these bounds are far above what anyone types. Every word is a prefix
# scan of the gloss index: a 1 MB query of 130,000 words held the reader for
# seconds to minutes (every hover queued behind it).
MAX_QUERY_CHARS = 256
MAX_QUERY_TERMS = 16
_QUERY_TERM = re.compile(r"[^\W_]+")  # what the unicode61 tokenizer counts as one token

RRF_K = 60
EXACT_NAME_BONUS = 1.0
# Names with this many spans or more at one tier are enough to choose from.
_TIER_CAP_FACTOR = 2
# Misspelling candidates offered by the trigram index, best bm25 first.
_MISSPELT_CANDIDATES = 300
# The name index is rebuilt at most this often while names keep changing.
NAME_INDEX_REFRESH_S = 2.0

_KIND_ORDER: dict[str, int] = {
    SpanKind.FUNCTION: 0,
    SpanKind.ASYNC_FUNCTION: 0,
    SpanKind.CLASS: 0,
    SpanKind.INTERFACE: 0,
    SpanKind.STRUCT: 0,
    SpanKind.ENUM: 0,
    SpanKind.TRAIT: 0,
    SpanKind.METHOD: 1,
    SpanKind.ASYNC_METHOD: 1,
    SpanKind.MODULE: 2,
}

SPAN_COLUMNS = (
    "path, name, qualname, kind, container, start_line, start_col, end_line, end_col, "
    "name_line, name_col, name_end_col, header_end_line, signature, docstring, "
    "content_hash, language, prev_hash"
)
_S_COLUMNS = ", ".join("s." + c.strip() for c in SPAN_COLUMNS.split(","))

# (id, name, kind, file mtime, path, line, qualname): what ranking needs of a candidate.
_CANDIDATE_COLUMNS = (
    "s.id, s.name, s.kind, coalesce(f.mtime_ns, 0), s.path, s.start_line, s.qualname"
)
_CANDIDATE = f"SELECT {_CANDIDATE_COLUMNS} FROM spans s LEFT JOIN files f ON f.path = s.path "


@dataclass(frozen=True, slots=True)
class SearchHit:
    span: SpanRecord
    summary: str | None  # the first sentence of the current gloss, if there is one
    score: float
    matched: str  # "name" | "gloss" | "both"


def query_refusal(query: str) -> str | None:
    """Why a search will not run this query (too long, too many words), or None."""
    query = query.strip()
    if len(query) > MAX_QUERY_CHARS:
        return (
            f"the query is {len(query)} characters long; "
            f"Gloss searches for at most {MAX_QUERY_CHARS}"
        )
    terms = len(_QUERY_TERM.findall(query))
    if terms > MAX_QUERY_TERMS:
        return f"the query has {terms} words; Gloss searches for at most {MAX_QUERY_TERMS}"
    return None


_SENTENCE_END = re.compile(r"[.!?](?=\s+[^a-z\s]|\s*$)")


def first_sentence(text: str | None) -> str | None:
    """The summary's first sentence (up to a `.`, `!` or `?` followed by a space and
    something other than a lower-case letter, so `e.g. this` stays whole)."""
    if not text:
        return None
    text = " ".join(text.split())
    end = _SENTENCE_END.search(text)
    return text[: end.end()] if end is not None else text


def clean_query(query: str) -> str:
    """The query with control characters removed and outer space stripped."""
    return "".join(ch for ch in query if ch.isprintable()).strip()


@dataclass(frozen=True, slots=True)
class _Candidate:
    id: int
    name: str
    kind: str
    mtime_ns: int
    path: str
    line: int
    qualname: str

    def tie_key(self) -> tuple[int, int, str, int]:
        return (-self.mtime_ns, _KIND_ORDER.get(self.kind, 1), self.path, self.line)


class _Ranked:
    """One ranked list being built: span id -> (rank key), each id once."""

    def __init__(self) -> None:
        self.keys: dict[int, tuple[Any, ...]] = {}
        self.candidates: dict[int, _Candidate] = {}

    def add(self, candidate: _Candidate, key: tuple[Any, ...]) -> None:
        if candidate.id not in self.keys:
            self.keys[candidate.id] = key + candidate.tie_key()
            self.candidates[candidate.id] = candidate

    def ordered(self) -> list[int]:
        return sorted(self.keys, key=self.keys.__getitem__)

    def __len__(self) -> int:
        return len(self.keys)


def _candidates(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[_Candidate]:
    return [_Candidate(*row) for row in conn.execute(_CANDIDATE + where, params)]


def _names_in(names: Sequence[str]) -> tuple[str, list[str]]:
    return f"s.name_lower IN ({','.join('?' * len(names))})", list(names)


def rank_names(
    conn: sqlite3.Connection, index: NameIndex, query: str, cap: int
) -> tuple[list[int], set[int], dict[int, _Candidate]]:
    """Span ids by how their name matches `query` (best first), the ids whose name equals
    it ignoring case, and what is known of each."""
    ranked = _Ranked()
    nq = name_query(query)
    typed = query.strip()
    if not nq:
        return [], set(), {}
    want = cap * _TIER_CAP_FACTOR
    container = ""
    if "." in nq.strip("."):
        # `Store.search`: the name part is matched, the rest must be in the qualname.
        container, nq = nq.rsplit(".", 1)
    if not nq:
        return [], set(), {}

    def keep(c: _Candidate) -> bool:
        return not container or container in c.qualname.lower()

    exact: set[int] = set()
    for c in _candidates(conn, "WHERE s.name_lower = ?", (nq,)):
        if keep(c):
            ranked.add(c, (NameTier.EXACT, 0 if c.name == typed else 1, len(c.name)))
            exact.add(c.id)
    if len(ranked) < want:
        for c in _candidates(
            conn,
            "WHERE s.name_lower > ? AND s.name_lower < ? "
            "ORDER BY length(s.name), f.mtime_ns DESC LIMIT ?",
            (nq, nq + "\U0010ffff", want),
        ):
            if keep(c):
                ranked.add(c, (NameTier.PREFIX, len(c.name)))
    if len(ranked) < want and len(nq) >= 3:
        # The trigram index narrows; instr() > 1 keeps true substrings past the start.
        for c in _candidates(
            conn,
            "WHERE s.id IN (SELECT rowid FROM spans_fts WHERE name LIKE ?) "
            "AND instr(s.name_lower, ?) > 1 ORDER BY length(s.name) LIMIT ?",
            (f"%{_like_pattern(nq)}%", nq, want * 4),
        ):
            if keep(c):
                at = c.name.lower().find(nq)
                tier = NameTier.WORD if is_word_start(c.name, at) else NameTier.SUBSTRING
                ranked.add(c, (tier, len(c.name)))
    chars = subsequence_chars(nq)
    if len(ranked) < want and len(chars) >= 3:
        names = index.subsequence(chars, want)
        if names:
            order = {name: i for i, name in enumerate(names)}
            where, params = _names_in(names)
            for c in _candidates(conn, "WHERE " + where, params):
                if keep(c):
                    ranked.add(c, (NameTier.SUBSEQUENCE, order[c.name.lower()], len(c.name)))
    bound = misspelling_bound(nq)
    if len(ranked) < want and bound:
        close = _misspelt(conn, nq, bound)
        if close:
            where, params = _names_in(list(close))
            for c in _candidates(conn, "WHERE " + where, params):
                if keep(c):
                    ranked.add(c, (NameTier.MISSPELT, close[c.name.lower()], len(c.name)))
    return ranked.ordered()[:cap], exact, ranked.candidates


def _misspelt(conn: sqlite3.Connection, nq: str, bound: int) -> dict[str, int]:
    """Names within `bound` edits of `nq` -> their distance, from the names sharing the
    most (and rarest) trigrams with it."""
    pieces = trigrams(nq)
    if not pieces:
        return {}
    match = " OR ".join('"' + p.replace('"', '""') + '"' for p in pieces)
    rows = conn.execute(
        "SELECT DISTINCT s.name_lower FROM (SELECT rowid AS id FROM spans_fts "
        "WHERE spans_fts MATCH ? ORDER BY rank LIMIT ?) m JOIN spans s ON s.id = m.id",
        (match, _MISSPELT_CANDIDATES),
    )
    close: dict[str, int] = {}
    for (name,) in rows:
        distance = edit_distance(nq, name, bound)
        if 0 < distance <= bound:
            close[name] = distance
    return close


def _like_pattern(text: str) -> str:
    # The trigram index answers LIKE but not ESCAPE, so % and _ match loosely
    # here; the instr() test in the same query keeps only true substrings.
    return text.replace("%", "_")


def gloss_match(query: str, *, any_word: bool = False) -> str | None:
    """The FTS5 MATCH expression for the query's words, each quoted as a prefix term, so
    nothing the user typed is read as syntax (NEAR, AND, column filters, `^`)."""
    terms = _QUERY_TERM.findall(query.lower())
    if not terms:
        return None
    return (" OR " if any_word else " ").join(f'"{t}"*' for t in terms)


def rank_glosses(
    conn: sqlite3.Connection, query: str, cap: int, prompt_version: str
) -> tuple[list[int], dict[int, _Candidate]]:
    """Span ids whose current gloss's text matches the query's words, best first."""
    ranked = _Ranked()
    for any_word in (False, True):
        match = gloss_match(query, any_word=any_word)
        if match is None:
            break
        rows = conn.execute(
            f"SELECT {_CANDIDATE_COLUMNS}, m.r "
            "FROM (SELECT rowid AS gid, rank AS r FROM glosses_fts WHERE glosses_fts MATCH ? "
            "ORDER BY rank LIMIT ?) m JOIN glosses g ON g.id = m.gid AND g.prompt_version = ? "
            "JOIN spans s ON s.content_hash = g.content_hash "
            "LEFT JOIN files f ON f.path = s.path",
            (match, cap * _TIER_CAP_FACTOR, prompt_version),
        )
        for row in rows:
            ranked.add(_Candidate(*row[:7]), (row[7],))
        if len(ranked) or " " not in match:
            break
    return ranked.ordered()[:cap], ranked.candidates


def rank_near(
    conn: sqlite3.Connection, near: Sequence[str], cap: int
) -> tuple[list[int], dict[int, _Candidate]]:
    """Span ids whose text has one of these content hashes, in the hashes' order."""
    if not near:
        return [], {}
    ranked = _Ranked()
    order = {h: i for i, h in enumerate(near[: cap * _TIER_CAP_FACTOR])}
    marks = ",".join("?" * len(order))
    rows = conn.execute(
        f"SELECT {_CANDIDATE_COLUMNS}, s.content_hash FROM spans s "
        f"LEFT JOIN files f ON f.path = s.path WHERE s.content_hash IN ({marks})",
        list(order),
    )
    for row in rows:
        ranked.add(_Candidate(*row[:7]), (order[row[7]],))
    return ranked.ordered()[:cap], ranked.candidates


def fuse(
    names: Sequence[int],
    glosses: Sequence[int],
    near: Sequence[int],
    exact: set[int],
    candidates: dict[int, _Candidate],
    limit: int,
) -> list[tuple[int, float, str]]:
    """(span id, score, matched) of the best `limit`, by the rule in the module docstring."""
    scores: dict[int, float] = {}
    for ranking in (names, glosses, near):
        for rank, span_id in enumerate(ranking, start=1):
            scores[span_id] = scores.get(span_id, 0.0) + 1.0 / (RRF_K + rank)
    for span_id in exact:
        if span_id in scores:
            scores[span_id] += EXACT_NAME_BONUS
    by_name = set(names)
    by_gloss = set(glosses) | set(near)

    def key(span_id: int) -> tuple[Any, ...]:
        return (-scores[span_id], span_id not in by_name, *candidates[span_id].tie_key())

    best = sorted(scores, key=key)[:limit]
    out = []
    for span_id in best:
        named, glossed = span_id in by_name, span_id in by_gloss
        matched = "both" if named and glossed else "name" if named else "gloss"
        out.append((span_id, scores[span_id], matched))
    return out


def _span(row: Sequence[Any]) -> SpanRecord:
    """A row of SPAN_COLUMNS, in that order."""
    return SpanRecord(row[0], row[1], row[2], SpanKind(row[3]), *row[4:])


def search(
    conn: sqlite3.Connection,
    index: NameIndex,
    query: str,
    limit: int,
    near: Sequence[str],
    prompt_version: str,
) -> list[SearchHit]:
    """The fused ranking of the query (see the module docstring), best first."""
    if limit <= 0 or query_refusal(query) is not None:
        return []
    q = clean_query(query)
    if not q:
        return []
    names, exact, candidates = rank_names(conn, index, q, limit)
    glosses, by_gloss = rank_glosses(conn, q, limit, prompt_version)
    near_ids, by_near = rank_near(conn, near, limit)
    candidates.update(by_gloss)
    candidates.update(by_near)
    best = fuse(names, glosses, near_ids, exact, candidates, limit)
    if not best:
        return []
    marks = ",".join("?" * len(best))
    rows = conn.execute(
        f"SELECT s.id, {_S_COLUMNS}, json_extract(g.body, '$.summary') FROM spans s "
        "LEFT JOIN glosses g ON g.content_hash = s.content_hash AND g.prompt_version = ? "
        f"WHERE s.id IN ({marks})",
        (prompt_version, *(span_id for span_id, _, _ in best)),
    )
    found = {row[0]: row for row in rows}
    hits = []
    for span_id, score, matched in best:
        row = found.get(span_id)
        if row is None:
            continue
        summary = row[-1] if isinstance(row[-1], str) else None
        hits.append(SearchHit(_span(row[1:-1]), first_sentence(summary), score, matched))
    return hits


class Searcher:
    """Searches (and other latency-bound reads) of one store, on a thread of their own.

    `connect` opens the plain sqlite3 connection; it runs on that thread. The
    name index is built there on first use and rebuilt when the spans change,
    at most every NAME_INDEX_REFRESH_S."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], prompt_version: str) -> None:
        self._connect = connect
        self.prompt_version = prompt_version
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="gloss-reads")
        self._conn: sqlite3.Connection | None = None
        self._index = NameIndex()
        self._index_stamp: tuple[int, int] | None = None
        self._data_version: int | None = None
        self._index_checked = 0.0
        self._closed = threading.Event()

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(connection)` on the reads' thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, work)

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            if self._closed.is_set():
                raise sqlite3.ProgrammingError("the store's reads are closed")
            self._conn = self._connect()
        return work(self._conn)

    async def search(self, query: str, limit: int, near: Sequence[str]) -> list[SearchHit]:
        return await self.run(lambda conn: self._search(conn, query, limit, near))

    def _search(
        self, conn: sqlite3.Connection, query: str, limit: int, near: Sequence[str]
    ) -> list[SearchHit]:
        return search(conn, self._names(conn), query, limit, near, self.prompt_version)

    def _names(self, conn: sqlite3.Connection) -> NameIndex:
        now = time.monotonic()
        if self._index_stamp is not None and now - self._index_checked < NAME_INDEX_REFRESH_S:
            return self._index
        self._index_checked = now
        (version,) = conn.execute("PRAGMA data_version").fetchone()
        if version == self._data_version and self._index_stamp is not None:
            return self._index
        self._data_version = version
        stamp = conn.execute("SELECT coalesce(max(id), 0), count(*) FROM spans").fetchone()
        stamp = (int(stamp[0]), int(stamp[1]))
        if stamp != self._index_stamp:
            self._index = NameIndex.of(
                r[0] for r in conn.execute("SELECT DISTINCT name_lower FROM spans")
            )
            self._index_stamp = stamp
        return self._index

    async def close(self) -> None:
        self._closed.set()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close_conn)
        self._executor.shutdown(wait=False)

    def _close_conn(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
