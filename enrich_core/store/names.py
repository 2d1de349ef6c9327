"""Matching a typed query against symbol names: how close a name is, and the loose tiers.

The strict tiers (exact, prefix, substring) are answered by SQLite's indexes
(search.py), so they see every name the moment it is committed. The loose
tiers need a scan of every name, which SQLite cannot do in budget at 100,000
spans, so they run here over `NameIndex`, the workspace's distinct lower-cased
names held in memory as one newline-joined string:

- subsequence: the query's characters in order (`ldcfg` finds `load_config`,
  `lod_config` too), one compiled regex over the string, in C;
- misspelling: optimal-string-alignment distance (an adjacent swap is one
  edit) of the names SQLite's trigram index offers as candidates.

The index is rebuilt from the store when names change (see search.py) and
never holds anything but names.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum


class NameTier(IntEnum):
    """How a name matched the query; lower is better."""

    EXACT = 0  # equal, ignoring case (equal with case ranks first within it)
    PREFIX = 1
    WORD = 2  # contains the query starting at a word (after `_`, `.`, a case change)
    SUBSTRING = 3
    SUBSEQUENCE = 4  # the query's characters, in order
    MISSPELT = 5  # within a small edit distance


# Separators users type between the words of a name; dropped for subsequence.
_SEPARATORS = re.compile(r"[\s_\-.:]+")


def name_query(query: str) -> str:
    """The query as a name: lower-cased, words joined by `_` (`load config` -> `load_config`)."""
    return "_".join(query.lower().split())


def subsequence_chars(query: str) -> str:
    """The characters a subsequence match must find in order (separators dropped)."""
    return _SEPARATORS.sub("", query.lower())


def subsequence_pattern(chars: str) -> re.Pattern[str]:
    """A regex finding a line of a newline-joined name list holding `chars` in order.

    Each step is `[^\\nX]*+X`: possessive, so a line that lacks the next character
    fails at once instead of backtracking, and no match crosses a line."""
    steps = "".join(f"[^\\n{re.escape(c)}]*+{re.escape(c)}" for c in chars[1:])
    return re.compile(re.escape(chars[0]) + steps)


def misspelling_bound(query: str) -> int:
    """How many edits a misspelt name may be from the query: 1 up to 7 characters, then 2."""
    if len(query) < 4:
        return 0
    return 1 if len(query) < 8 else 2


def edit_distance(a: str, b: str, bound: int) -> int:
    """Optimal string alignment distance of `a` and `b`, or `bound + 1` once it exceeds
    `bound` (rows are cut short there, so a far name costs little)."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        ca = a[i - 1]
        for j in range(1, len(b) + 1):
            cb = b[j - 1]
            cost = 0 if ca == cb else 1
            best = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, prev2[j - 2] + 1)
            cur[j] = best
        if min(cur) > bound:
            return bound + 1
        prev2, prev = prev, cur
    return min(prev[-1], bound + 1)


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


@dataclass(slots=True)
class NameIndex:
    """The distinct lower-cased names of a store, sorted, as one newline-joined string."""

    names: Sequence[str] = ()
    joined: str = ""
    # Offset in `joined` at which each name starts: a match's offset -> its name.
    starts: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, names: Iterable[str]) -> NameIndex:
        listed = sorted(set(names))
        starts: list[int] = []
        at = 0
        for name in listed:
            starts.append(at)
            at += len(name) + 1
        return cls(listed, "\n".join(listed), starts)

    def __len__(self) -> int:
        return len(self.names)

    def subsequence(self, chars: str, cap: int) -> list[str]:
        """Up to `cap` names holding `chars` in order, tightest (shortest span) first."""
        if not chars or not self.names:
            return []
        pattern = subsequence_pattern(chars)
        found: list[tuple[int, int, str]] = []
        pos = 0
        joined, starts, names = self.joined, self.starts, self.names
        limit = cap * 4  # enough to choose the tightest `cap` from
        while len(found) < limit:
            match = pattern.search(joined, pos)
            if match is None:
                break
            index = bisect.bisect_right(starts, match.start()) - 1
            name = names[index]
            # The first match in a line is the leftmost; its length says how spread out.
            found.append((match.end() - match.start(), len(name), name))
            pos = starts[index] + len(name) + 1
        found.sort()
        return [name for _, _, name in found[:cap]]
