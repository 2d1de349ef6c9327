"""Search: symbols by name, by what their gloss says, and by meaning, fused into one list.

What `gloss/search`, workspace/symbol and `gloss search` answer. A query is
plain text: nothing in it is ever read as FTS5 or SQL syntax (quotes, `*`,
`NEAR`, `AND`, `:`, `^`, `%`, `-` are just characters); a query past the
bounds (`query_refusal`) finds nothing.

The ranking rule
----------------
Three ranked lists of spans are made, each best first:

1. **name** (names.NameIndex, in memory): tiers in this order (NameTier):
   exact (ignoring case), prefix, word (the query starts a word inside the
   name: `config` in `load_config`), substring (of 3 characters or more;
   shorter only at a word start), then the loose tiers: initials (the query's
   letters start the name's words: `cw` -> `ConnectionWriter`), subsequence
   from the name's first letter (`ldcfg` -> `load_config`, and a
   dropped letter, `lod_config`) and misspelt (optimal-string-alignment
   distance 1 from 5 characters, 2 from 10: `laod_config`). The loose tiers
   run only for a one-word query: subsequence when the strict tiers found
   fewer spans than the limit, misspelt only when no name matched otherwise.
   Within a tier: a name equal to the query with its case first (`execute`
   above `Execute`), then the tighter match (shorter name; fewer edits; a
   subsequence spread over fewer characters), then the tie-breakers below.
   Several words are matched as one name joined by `_` (`load config` ->
   `load_config`); `Type.member` matches `member` within `Type`.
2. **gloss**: the porter-stemmed full-text index of each gloss's summary,
   tags, inputs and outputs. Common English words are dropped when others
   remain. The last word, when no gloss holds it and no space follows it, is
   a word being typed and matches as a prefix. A gloss scores the sum of the
   inverse document frequencies (bm25's idf) of the query's words it holds,
   so more and rarer words rank higher; a word held by over 2% of the glosses
   (and over 1,000) is left out while rarer ones remain. Equal scores go by
   the tie-breakers below. (FTS5 without positions knows no term frequency, and
   bm25's length factor costs a lookup a row: 50 ms for a common word at
   100,000 glosses.)
3. **meaning**: the content hashes of the glosses nearest the query's
   embedding, when the caller has them (`near`; see Engine._near_by_meaning),
   cut to the nearest NEAR_TOP (5). The name and gloss lists hold only spans
   that match; a nearest-neighbour list ranks every gloss, related or not, so
   only its head is evidence. Fused whole, its tail pushed one word match
   below another and filled every answer to the limit with unrelated spans
   (a nonsense query listed 50). Measured on the retrieval bench (230
   queries, 115 functions, all-MiniLM-L6-v2; `python -m bench.retrieval`):
   words alone recall@5 0.922, MRR 0.813; with the nearest 50 fused 0.961,
   0.884; with the nearest 5, 0.987, 0.892. The gain is the cut, not its
   size: every size tried from 1 to 20 did better than 50 (recall@5 0.965 to
   0.991, MRR 0.886 to 0.902), and 5 is the middle of them. A floor
   relative to the best similarity (within 0.1: 0.978, 0.908) did as well but
   is in the model's cosine units and admits more glosses as a store grows; a
   smaller weight for the list (0.5: 0.943, 0.861) did worse.

They are fused by reciprocal rank fusion: a span at 1-based rank r in a list
scores 1 / (60 + r) from it, summed over the lists it is in. A span whose
name equals the query scores 2 more, 1 more if only ignoring case: what the
user typed exactly comes first, in the case typed first. Ties of score go
to name evidence, then to the more recently edited file (files.mtime_ns),
then by kind (functions and types before methods: a method is usually
reached through its type), then by path and line. The same tie-breakers
order equal matches inside each list.

`matched` says which of the name and gloss lists found the span ("name",
"gloss", "both"); a span found only by meaning counts as "gloss".

A search runs on the caller's thread (the event loop's) with a plain sqlite3
connection: a few milliseconds of CPU on indexed rows and in-memory names,
less than two thread switches cost on a busy machine (see searcher.Searcher).
"""

from __future__ import annotations

import heapq
import math
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from enrich_core.records.span import SpanKind, SpanRecord
from enrich_core.store.names import (
    NameIndex,
    NameTier,
    is_word_start,
    misspelling_bound,
    name_query,
    subsequence_chars,
    typed_name,
)

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "NEAR_TOP",
    "RRF_K",
    "SearchHit",
    "first_sentence",
    "query_refusal",
]

# A search query is a name, a qualified name or a few words of what a gloss
# says; these bounds are far above what anyone types. Every word is a read of
# the gloss index, on the event loop's thread: a 1 MB query of 130,000 words
# held the reads for seconds to minutes (every hover queued behind it).
MAX_QUERY_CHARS = 256
MAX_QUERY_TERMS = 16
_QUERY_TERM = re.compile(r"[^\W_]+")  # what the unicode61 tokenizer counts as one token

RRF_K = 60
# The meaning list is cut to its nearest this many (the rule: the module docstring).
NEAR_TOP = 5
# Each list is cut at this many times the limit before fusion.
_TIER_CAP_FACTOR = 1


SPAN_COLUMNS = (
    "path, name, qualname, kind, container, start_line, start_col, end_line, end_col, "
    "name_line, name_col, name_end_col, header_end_line, signature, docstring, "
    "content_hash, language, prev_hash"
)
_S_COLUMNS = ", ".join("s." + c.strip() for c in SPAN_COLUMNS.split(","))


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


class _Ranked:
    """One ranked list being built: span id -> its rank key, each id once."""

    def __init__(self) -> None:
        self.keys: dict[int, tuple[Any, ...]] = {}

    def add(self, span_id: int, key: tuple[Any, ...]) -> None:
        if span_id not in self.keys:
            self.keys[span_id] = key

    def ordered(self, cap: int) -> list[int]:
        return sorted(self.keys, key=self.keys.__getitem__)[:cap]

    def __len__(self) -> int:
        return len(self.keys)


def rank_names(index: NameIndex, query: str, cap: int) -> tuple[list[int], dict[int, float]]:
    """Span ids by how their name matches `query`, best first, and the bonus of those
    whose name equals it (the rule: the module docstring)."""
    nq = name_query(query)
    container = ""
    if "." in nq.strip("."):
        # `Store.search`: the name part is matched, the rest must be in the qualname
        # (checked when the hits are read; see `search`).
        container, nq = nq.rsplit(".", 1)
    if not nq:
        return [], {}
    typed = typed_name(query).rsplit(".", 1)[-1]
    want = cap * _TIER_CAP_FACTOR
    # (name index, key) of the names chosen so far; spans are taken in name order.
    chosen: dict[int, tuple[Any, ...]] = {}
    spans = 0

    def choose(i: int, key: tuple[Any, ...]) -> None:
        nonlocal spans
        if i not in chosen:
            chosen[i] = key
            spans += index.firsts[i + 1] - index.firsts[i]

    for i in index.exact(nq):
        choose(i, (NameTier.EXACT, 0 if index.names[i] == typed else 1))
    # Name index -> its bonus: 2 for the name as typed, 1 for it in another case.
    exact_names = {i: 2.0 if key[1] == 0 else 1.0 for i, key in chosen.items()}
    if spans < want:
        prefixed = index.prefixed(nq)
        by_length = sorted(prefixed, key=lambda i: len(index.lowers[i]))
        for i in by_length[:want]:
            choose(i, (NameTier.PREFIX, len(index.lowers[i])))
    if spans < want and len(nq) >= 2:
        inside = []
        for i, at in index.containing(nq, want * 4):
            word = is_word_start(index.names[i], at)
            if not word and len(nq) < 3:
                continue  # `pc` inside `TempConfig` is chance, not a match
            tier = NameTier.WORD if word else NameTier.SUBSTRING
            inside.append((tier, len(index.lowers[i]), i))
        inside.sort()
        for tier, length, i in inside[:want]:
            choose(i, (tier, length))
    # The loose tiers fill in only when the strict ones found too few: subsequence
    # below `cap` spans, misspelt only when nothing else matched the name at all.
    single_word = len(query.split()) == 1  # a phrase is no misspelt or squeezed name
    chars = subsequence_chars(nq)
    if spans < want and single_word:
        for i in index.initials(chars, want):
            choose(i, (NameTier.INITIALS, len(index.lowers[i])))
    if spans < want and len(chars) >= 3 and single_word:
        for order, i in enumerate(index.subsequence(chars, want)):
            choose(i, (NameTier.SUBSEQUENCE, order))
    bound = misspelling_bound(nq)
    if not chosen and bound and single_word:
        for distance, i in index.misspelt(nq, bound, want):
            choose(i, (NameTier.MISSPELT, distance, len(index.lowers[i])))
    ranked = _Ranked()
    exact: dict[int, float] = {}
    for i, key in chosen.items():
        for span_id in index.spans_of(i, want):
            ranked.add(span_id, (*key, index.tie_of(span_id)))
            if i in exact_names:
                exact[span_id] = exact_names[i]
    return ranked.ordered(want if container else cap), exact


# Words too common in English to tell glosses apart; dropped when others remain.
STOPWORDS = frozenset(
    "a an and are as at be by do does for from has have how i if in into is it its of on "
    "or so that the their them then there these this those to was what when where which "
    "while who why will with".split()
)
# A word held by more than this share of the glosses (and more than _COMMON_FLOOR) is
# left out while rarer ones remain.
_COMMON_SHARE = 0.02
_COMMON_FLOOR = 1_000
# At most this many glosses (the newest) are read for one word.
_GLOSS_POSTINGS = 20_000


def gloss_terms(query: str) -> tuple[list[str], bool]:
    """The query's words as FTS5 terms, each quoted so nothing is read as syntax (NEAR,
    AND, column filters, `^`), and whether the last may be a word still being typed."""
    words = _QUERY_TERM.findall(query.lower())
    content = [w for w in words if w not in STOPWORDS] or words
    terms = [f'"{w}"' for w in content]
    # A prefix of fewer than 4 letters expands to hundreds of words (`que`: query, queue...).
    typing = bool(terms) and query == query.rstrip() and len(content[-1]) >= 4
    return terms, typing and content[-1] == words[-1]


def rank_glosses(
    conn: sqlite3.Connection, index: NameIndex, query: str, cap: int, prompt_version: str
) -> list[int]:
    """Span ids whose current gloss's text holds the query's words, best first: by the
    sum of the words' inverse document frequencies (bm25's idf; FTS5 without positions
    knows no term frequency, and bm25's length factor costs a lookup a row), so a
    gloss holding more and rarer words ranks higher; equal scores by the tie-breakers."""
    terms, typing = gloss_terms(query)
    if not terms:
        return []
    counts: dict[str, int] = {}
    if typing:
        last = terms[-1]
        counts[last] = _gloss_count(conn, last)
        if counts[last] == 0:
            # Not a word any gloss holds (after stemming): a word being typed, as a
            # prefix (a prefix term merges every word it starts, so only when it must).
            terms[-1] = last + "*"
    distinct = list(dict.fromkeys(terms))
    if len(distinct) == 1:
        # One word: every gloss holding it weighs the same; the newest are read.
        newest = _newest(conn, distinct[0], cap * 2)
        return _spans_of_glosses(conn, index, [(g, 0.0) for g in newest], cap, prompt_version)
    counts = {t: counts[t] if t in counts else _gloss_count(conn, t) for t in distinct}
    present = sorted((c, t) for t, c in counts.items() if c > 0)
    if not present:
        return []
    # How many glosses there are, near enough for weights (count(*) reads them all).
    (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM glosses").fetchone()
    total = max(int(top), present[-1][0])
    # A word in more than _COMMON_SHARE of the glosses says little and costs its whole
    # list: left out while rarer words remain.
    common = max(_COMMON_FLOOR, total * _COMMON_SHARE)
    rare = [(c, t) for c, t in present if c <= common] or present[:1]
    scores: dict[int, float] = {}
    held = scores.get
    for count, term in rare:
        weight = math.log((total - count + 0.5) / (count + 0.5) + 1.0)
        for gloss_id in _newest(conn, term, _GLOSS_POSTINGS):
            scores[gloss_id] = held(gloss_id, 0.0) + weight
    best = heapq.nlargest(cap * 2, scores.items(), key=itemgetter(1, 0))
    return _spans_of_glosses(conn, index, best, cap, prompt_version)


def _newest(conn: sqlite3.Connection, term: str, limit: int) -> list[int]:
    rows = conn.execute(
        "SELECT rowid FROM glosses_fts WHERE glosses_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
        (term, limit),
    )
    return [gloss_id for (gloss_id,) in rows]


def _spans_of_glosses(
    conn: sqlite3.Connection,
    index: NameIndex,
    glosses: list[tuple[int, float]],
    cap: int,
    prompt_version: str,
) -> list[int]:
    """The spans whose current gloss is one of `glosses` ((id, score), best first), by
    score, equal scores by the tie-breakers; read a page of `cap` glosses at a time
    (most pages are enough: one gloss, one span)."""
    score = dict(glosses)
    ranked = _Ranked()
    for page in range(0, len(glosses), cap):
        ids = [gloss_id for gloss_id, _ in glosses[page : page + cap]]
        rows = conn.execute(
            "SELECT s.id, g.id FROM glosses g JOIN spans s ON s.content_hash = g.content_hash "
            f"WHERE g.id IN ({','.join('?' * len(ids))}) AND g.prompt_version = ?",
            (*ids, prompt_version),
        )
        for span_id, gloss_id in rows:
            ranked.add(span_id, (-score[gloss_id], index.tie_of(span_id)))
        if len(ranked) >= cap:
            break
    return ranked.ordered(cap)


def _gloss_count(conn: sqlite3.Connection, term: str) -> int:
    (count,) = conn.execute(
        "SELECT count(*) FROM glosses_fts WHERE glosses_fts MATCH ?", (term,)
    ).fetchone()
    return int(count)


def rank_near(
    conn: sqlite3.Connection, index: NameIndex, near: Sequence[str], cap: int
) -> list[int]:
    """Span ids whose text has one of the nearest NEAR_TOP of these content hashes, in
    the hashes' order."""
    if not near:
        return []
    ranked = _Ranked()
    order = {h: i for i, h in enumerate(near[: min(NEAR_TOP, cap * _TIER_CAP_FACTOR)])}
    marks = ",".join("?" * len(order))
    rows = conn.execute(
        f"SELECT id, content_hash FROM spans WHERE content_hash IN ({marks})", list(order)
    )
    for span_id, content_hash in rows:
        ranked.add(span_id, (order[content_hash], index.tie_of(span_id)))
    return ranked.ordered(cap)


def fuse(
    names: Sequence[int],
    glosses: Sequence[int],
    near: Sequence[int],
    exact: dict[int, float],
    index: NameIndex,
) -> list[tuple[int, float, str]]:
    """(span id, score, matched) of every span in the lists, best first, by the rule in
    the module docstring."""
    scores: dict[int, float] = {}
    for ranking in (names, glosses, near):
        for rank, span_id in enumerate(ranking, start=1):
            scores[span_id] = scores.get(span_id, 0.0) + 1.0 / (RRF_K + rank)
    for span_id, bonus in exact.items():
        if span_id in scores:
            scores[span_id] += bonus
    by_name = set(names)
    by_gloss = set(glosses) | set(near)

    def key(span_id: int) -> tuple[float, bool, int, int]:
        return (-scores[span_id], span_id not in by_name, index.tie_of(span_id), span_id)

    out = []
    for span_id in sorted(scores, key=key):
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
    *,
    names_first: bool = False,
) -> list[SearchHit]:
    """The fused ranking of the query (see the module docstring), best first. With
    `names_first` (a picker listing name matches before the rest) the gloss text is not
    searched when names alone fill the limit: they would all come first anyway."""
    if limit <= 0 or query_refusal(query) is not None:
        return []
    q = clean_query(query)
    if not q:
        return []
    names, exact = rank_names(index, q, limit)
    if names_first and len(names) >= limit:
        glosses: list[int] = []
    else:
        glosses = rank_glosses(conn, index, q, limit, prompt_version)
    near_ids = rank_near(conn, index, near, limit)
    fused = fuse(names, glosses, near_ids, exact, index)
    container = _container_of(q)
    hits: list[SearchHit] = []
    # Read in pages: a span deleted since the index was built, or outside the
    # container a qualified query names, is passed over.
    for page in range(0, len(fused), limit):
        best = fused[page : page + limit]
        marks = ",".join("?" * len(best))
        rows = conn.execute(
            f"SELECT s.id, {_S_COLUMNS}, json_extract(g.body, '$.summary') FROM spans s "
            "LEFT JOIN glosses g ON g.content_hash = s.content_hash AND g.prompt_version = ? "
            f"WHERE s.id IN ({marks})",
            (prompt_version, *(span_id for span_id, _, _ in best)),
        )
        found = {row[0]: row for row in rows}
        for span_id, score, matched in best:
            row = found.get(span_id)
            if row is None:
                continue
            span = _span(row[1:-1])
            if container and matched != "gloss" and container not in span.qualname.lower():
                continue
            summary = row[-1] if isinstance(row[-1], str) else None
            hits.append(SearchHit(span, first_sentence(summary), score, matched))
            if len(hits) == limit:
                return hits
    return hits


def _container_of(query: str) -> str:
    nq = name_query(query)
    return nq.rsplit(".", 1)[0] if "." in nq.strip(".") else ""
