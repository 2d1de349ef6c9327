"""Matching a typed query against symbol names, in memory: `NameIndex` and its tiers.

At 100,000 spans SQLite answers an exact name in microseconds but not the
rest in budget: ordering a common name's 10,000 spans by how recently their
file was edited joins every one of them to `files`, a subsequence is a scan
of every name, and ranking trigram candidates by bm25 costs ~50 ms. So the
distinct names, each name's spans in tie order and each span's tie rank are
read once into compact arrays (a few MB at 100,000 spans) and every name
tier runs here:

- exact, prefix: bisection of the sorted lower-case names;
- word and substring: `str.find` over the names joined by newlines;
- subsequence: the query's characters in order (`ldcfg` finds `load_config`,
  `lod_config` too), one compiled regex over the same string, in C;
- misspelt: optimal-string-alignment distance (an adjacent swap is one edit)
  of the names sharing enough trigrams with the query.

The index holds only names, places and order, never gloss text; search.py
rebuilds it in the background when the store changes.
"""

from __future__ import annotations

import bisect
import re
import sqlite3
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum


class NameTier(IntEnum):
    """How a name matched the query; lower is better."""

    EXACT = 0  # equal, ignoring case (equal with case ranks first within it)
    PREFIX = 1
    WORD = 2  # contains the query starting at a word (after `_`, `.`, a case change)
    SUBSTRING = 3
    INITIALS = 4  # the query's characters start the name's words (`cw`: ConnectionWriter)
    SUBSEQUENCE = 5  # the query's characters, in order
    MISSPELT = 6  # within a small edit distance


# Separators users type between the words of a name; dropped for subsequence.
_SEPARATORS = re.compile(r"[\s_\-.:]+")


# Typed around a name (`load_config(`, `"Circle"`), never part of one.
_AROUND_NAMES = "\"'`()[]{}<>*%^:;,!?=+&|~#@/\\-"


def typed_name(query: str) -> str:
    """The query as a name: words joined by `_` (`load config` -> `load_config`),
    quotes, brackets and operators at either end dropped."""
    return "_".join(query.split()).strip(_AROUND_NAMES)


def name_query(query: str) -> str:
    """`typed_name`, lower-cased: what names are compared with."""
    return typed_name(query).lower()


def subsequence_chars(query: str) -> str:
    """The characters a subsequence match must find in order (separators dropped)."""
    return _SEPARATORS.sub("", query.lower())


def subsequence_pattern(chars: str) -> re.Pattern[str]:
    """A regex finding the lines of a newline-joined name list that hold `chars` in
    order from their first character.

    Each step is `[^\nX]*+X`: possessive, so a line that lacks the next character
    fails at once instead of backtracking, and no match crosses a line."""
    steps = "".join(f"[^\n{re.escape(c)}]*+{re.escape(c)}" for c in chars[1:])
    return re.compile(f"(?m)^{re.escape(chars[0])}{steps}")


# At most this many names are measured for a misspelling (each ~10 µs).
MISSPELT_MEASURED = 300
# Initials longer than this are rare, and each adds a lazy step to the regex.
MAX_INITIALS = 6


def initials_pattern(chars: str) -> re.Pattern[str]:
    """A regex finding the lines of newline-joined names (with their case, leading `_`
    dropped) whose words start with `chars` in order: the first character starts the
    line; each next one starts a word, after `_`/`-`/`.` or as a capital after a small
    letter or digit."""
    first = re.escape(chars[0])
    steps = "".join(
        f"[^\\n]*?(?:(?<=[_\\-.]){_either(c)}|(?<=[a-z0-9]){re.escape(c.upper())})"
        for c in chars[1:]
    )
    return re.compile(f"(?m)^(?:{first}|{re.escape(chars[0].upper())}){steps}")


def _either(c: str) -> str:
    return f"[{re.escape(c)}{re.escape(c.upper())}]" if c.upper() != c else re.escape(c)


def misspelling_bound(query: str) -> int:
    """How many edits a misspelt name may be from the query: none below 5 characters
    (a subsequence covers those), 1 up to 9, then 2."""
    if len(query) < 5:
        return 0
    return 1 if len(query) < 10 else 2


def edit_distance(a: str, b: str, bound: int) -> int:
    """Optimal string alignment distance of `a` and `b` (an adjacent swap is one edit),
    or `bound + 1` once it exceeds `bound`. Only the diagonal band `bound` wide is
    filled, and a row whose band is all past `bound` ends it, so a far name costs
    a few cells."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    if a == b:
        return 0
    over = bound + 1
    n = len(b)
    prev2: list[int] = []
    prev = [j if j <= bound else over for j in range(n + 1)]
    for i in range(1, len(a) + 1):
        cur = [over] * (n + 1)
        if i <= bound:
            cur[0] = i
        ca = a[i - 1]
        lo, hi = max(1, i - bound), min(n, i + bound)
        best_in_row = cur[0]
        for j in range(lo, hi + 1):
            cb = b[j - 1]
            cost = prev[j - 1] + (ca != cb)
            if prev[j] + 1 < cost:
                cost = prev[j] + 1
            if cur[j - 1] + 1 < cost:
                cost = cur[j - 1] + 1
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb and prev2[j - 2] + 1 < cost:
                cost = prev2[j - 2] + 1
            cur[j] = cost if cost < over else over
            if cur[j] < best_in_row:
                best_in_row = cur[j]
        if best_in_row > bound:
            return over
        prev2, prev = prev, cur
    return prev[n] if prev[n] <= bound else over


def trigrams(text: str) -> list[str]:
    """The distinct three-character pieces of `text`, in order of first appearance."""
    seen: dict[str, None] = {}
    for i in range(len(text) - 2):
        seen.setdefault(text[i : i + 3], None)
    return list(seen)


def is_word_start(name: str, at: int) -> bool:
    """Whether position `at` of `name` begins a word: the start, after a separator,
    or an upper-case letter after a lower-case one (`loadConfig`)."""
    if at == 0:
        return True
    before, here = name[at - 1], name[at]
    return not before.isalnum() or (before.islower() and here.isupper())


# A span's tie rank packs (file recency rank, kind order, line) into one integer.
_LINE_BITS = 22
_KIND_BITS = 2
_KIND_ORDER = {"method": 1, "async_method": 1, "module": 2}  # functions and types: 0
NEWEST_UNKNOWN = 1 << 62  # a span committed after the index was built


def kind_order(kind: str) -> int:
    """Functions and types 0, methods 1 (usually reached through their type), modules 2."""
    return _KIND_ORDER.get(kind, 0)


@dataclass(slots=True)
class NameIndex:
    """The names of a store's spans, in memory, for the loose tiers and for ordering.

    `names` are the distinct names (with their case), sorted by lower case;
    `joined` is their lower-case forms joined by newlines. The spans of name
    `i` are `ids[firsts[i]:firsts[i + 1]]`, best tie rank first; `tie[id]` is
    a span's tie rank (more recently edited file first, then functions and
    types before methods, then line). `gram_postings()` maps each
    three-character piece of a lower-case name to the indexes of the names
    holding it: made on first use (only the misspelt tier needs it), since it is
    half of a build and a scan's writes rebuild the index many times (see
    searcher.Searcher)."""

    names: list[str] = field(default_factory=list)
    lowers: list[str] = field(default_factory=list)
    joined: str = ""
    starts: list[int] = field(default_factory=list)
    firsts: array[int] = field(default_factory=lambda: array("I", [0]))
    ids: array[int] = field(default_factory=lambda: array("I"))
    tie: array[int] = field(default_factory=lambda: array("Q"))
    grams: dict[str, array[int]] | None = None  # see gram_postings()
    # The lower-case names without leading `_`, sorted, joined by newlines; `bare_names[k]`
    # is the index of the name on line k: a subsequence scans one first letter's lines.
    bare: list[str] = field(default_factory=list)
    bare_joined: str = ""
    bare_starts: list[int] = field(default_factory=list)
    bare_names: array[int] = field(default_factory=lambda: array("I"))
    # The same lines with their case (`loadConfig`), where word starts can be seen.
    bare_cased: str = ""

    @classmethod
    def build(cls, conn: sqlite3.Connection) -> NameIndex:
        """Read every span's name and place from the store (one pass, no join)."""
        recency = {
            path: i
            for i, (path,) in enumerate(
                conn.execute("SELECT path FROM files ORDER BY mtime_ns DESC, path")
            )
        }
        unknown_file = len(recency)
        (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM spans").fetchone()
        tie = array("Q", bytes(8 * (int(top) + 1)))
        index = cls(tie=tie, firsts=array("I"))
        group: list[tuple[int, int]] = []
        previous: str | None = None
        line_cap = (1 << _LINE_BITS) - 1
        rows = conn.execute(
            "SELECT id, name, kind, path, start_line FROM spans ORDER BY name_lower, name"
        )
        for span_id, name, kind, path, line in rows:
            if span_id > top:
                continue  # committed between the two reads: the next build has it
            key = (
                (recency.get(path, unknown_file) << (_LINE_BITS + _KIND_BITS))
                | (_KIND_ORDER.get(kind, 0) << _LINE_BITS)
                | min(line, line_cap)
            )
            tie[span_id] = key
            if name != previous:
                index._close_group(group)
                index.names.append(name)
                index.firsts.append(len(index.ids))
                previous = name
                group = []
            group.append((key, span_id))
        index._close_group(group)
        index.firsts.append(len(index.ids))
        index.lowers = [name.lower() for name in index.names]
        at = 0
        for lower in index.lowers:
            index.starts.append(at)
            at += len(lower) + 1
        index.joined = "\n".join(index.lowers)
        bare = sorted((lower.lstrip("_"), i) for i, lower in enumerate(index.lowers))
        index.bare = [b for b, _ in bare]
        index.bare_names = array("I", (i for _, i in bare))
        at = 0
        for b in index.bare:
            index.bare_starts.append(at)
            at += len(b) + 1
        index.bare_joined = "\n".join(index.bare)
        index.bare_cased = "\n".join(index.names[i].lstrip("_") for i in index.bare_names)
        return index

    def _close_group(self, group: list[tuple[int, int]]) -> None:
        group.sort()
        self.ids.extend(span_id for _, span_id in group)

    def __len__(self) -> int:
        return len(self.names)

    def gram_postings(self) -> dict[str, array[int]]:
        """Trigram -> the indexes of the names holding it, made once. Two threads making
        it at once each assign a whole, equal dict: no lock is needed."""
        grams = self.grams
        if grams is None:
            grams = self.grams = _gram_postings(self.lowers)
        return grams

    def spans_of(self, i: int, cap: int) -> array[int]:
        """Up to `cap` span ids named `names[i]`, best tie rank first."""
        first = self.firsts[i]
        return self.ids[first : min(self.firsts[i + 1], first + cap)]

    def tie_of(self, span_id: int) -> int:
        return self.tie[span_id] if span_id < len(self.tie) else NEWEST_UNKNOWN

    def exact(self, lower: str) -> range:
        """Indexes of the names equal to `lower` ignoring case."""
        lo = bisect.bisect_left(self.lowers, lower)
        return range(lo, bisect.bisect_right(self.lowers, lower, lo))

    def prefixed(self, lower: str) -> range:
        """Indexes of the names starting with `lower` (ignoring case) and longer than it."""
        lo = bisect.bisect_right(self.lowers, lower)
        return range(lo, bisect.bisect_left(self.lowers, lower + "\U0010ffff", lo))

    def containing(self, lower: str, cap: int) -> Iterator[tuple[int, int]]:
        """(name index, where) of up to `cap` names holding `lower` past their start."""
        joined, starts = self.joined, self.starts
        pos = joined.find(lower)
        found = 0
        while pos >= 0 and found < cap:
            i = bisect.bisect_right(starts, pos) - 1
            at = pos - starts[i]
            end_of_line = starts[i] + len(self.lowers[i]) + 1
            if at > 0:
                found += 1
                yield i, at
                pos = joined.find(lower, end_of_line)
            else:
                # At the start: a prefix, found already; look further along the same name.
                pos = joined.find(lower, pos + 1)

    def subsequence(self, chars: str, cap: int) -> list[int]:
        """Indexes of up to `cap` names holding `chars` in order from their first letter
        (after any leading `_`), tightest first. Only the names starting with that
        letter are scanned: one slice of the sorted bare names."""
        if len(chars) < 2 or not self.names:
            return []
        bare, starts = self.bare, self.bare_starts
        block = self._bare_block(chars[0])
        if not block:
            return []
        lo, hi = block.start, block.stop
        pattern = subsequence_pattern(chars)
        found: list[tuple[int, int, int]] = []
        limit = cap * 2  # enough to choose the tightest `cap` from
        end = starts[hi - 1] + len(bare[hi - 1])
        for match in pattern.finditer(self.bare_joined, starts[lo], end):
            k = bisect.bisect_right(starts, match.start(), lo, hi) - 1
            i = self.bare_names[k]
            found.append((match.end() - match.start(), len(self.lowers[i]), i))
            if len(found) >= limit:
                break
        found.sort()
        return [i for _, _, i in found[:cap]]

    def initials(self, chars: str, cap: int) -> list[int]:
        """Indexes of up to `cap` names whose words start with `chars` in order, the first
        with the first (`cw`: ConnectionWriter, connection_writer), shortest first."""
        if not 2 <= len(chars) <= MAX_INITIALS or not self.names:
            return []
        block = self._bare_block(chars[0])
        if not block:
            return []
        starts = self.bare_starts
        end = starts[block.stop - 1] + len(self.bare[block.stop - 1])
        found: list[tuple[int, int]] = []
        pattern = initials_pattern(chars)
        for match in pattern.finditer(self.bare_cased, starts[block.start], end):
            k = bisect.bisect_right(starts, match.start(), block.start, block.stop) - 1
            i = self.bare_names[k]
            found.append((len(self.lowers[i]), i))
            if len(found) >= cap * 2:
                break
        found.sort()
        return [i for _, i in found[:cap]]

    def _bare_block(self, first: str) -> range:
        lo = bisect.bisect_left(self.bare, first)
        return range(lo, bisect.bisect_left(self.bare, chr(ord(first) + 1), lo))

    def misspelt(self, lower: str, bound: int, cap: int) -> list[tuple[int, int]]:
        """(distance, name index) of names 1..`bound` edits from `lower`, closest first.

        An edit changes at most three of a name's trigrams, so a name within
        `bound` edits holds at least `need` of any 3 * bound + need of the
        query's trigrams: the rarest are taken, and only the names holding
        `need` of them (and of a length within `bound`) are measured."""
        pieces = trigrams(lower)
        need = 2 if len(pieces) >= 3 * bound + 2 else 1
        if len(pieces) < 3 * bound + need:
            return []
        empty = array("I")
        grams = self.gram_postings()
        postings = sorted((grams.get(p, empty) for p in pieces), key=len)
        held: Counter[int] = Counter()
        for posting in postings[: 3 * bound + need]:
            held.update(posting)
        out = []
        lowers = self.lowers
        low, high = len(lower) - bound, len(lower) + bound
        # The names sharing the most of those trigrams are measured, at most a few hundred.
        for i, count in held.most_common(MISSPELT_MEASURED):
            name = lowers[i]
            if count < need:
                break
            if not low <= len(name) <= high:
                continue
            distance = edit_distance(lower, name, bound)
            if 0 < distance <= bound:
                out.append((distance, len(name), i))
        out.sort()
        return [(d, i) for d, _, i in out[:cap]]


def _gram_postings(lowers: list[str]) -> dict[str, array[int]]:
    postings: dict[str, list[int]] = {}
    for i, lower in enumerate(lowers):
        for j in range(len(lower) - 2):
            posting = postings.get(lower[j : j + 3])
            if posting is None:
                postings[lower[j : j + 3]] = [i]
            elif posting[-1] != i:
                posting.append(i)
    return {gram: array("I", posting) for gram, posting in postings.items()}
