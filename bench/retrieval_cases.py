"""The retrieval bench's data: functions, held-out descriptions, queries, and how a hit is scored.

`bench/data/retrieval/sources/<group>.py.txt` hold the functions (Python,
kept as text so linters and type checkers leave them alone; the bench copies
them into a workspace as `src/<group>.py`). `cases.json` gives, for each
function, where it comes from, a description written by us that the test LLM
server turns into its gloss (`LLMServer.set_descriptions`), and one or two
queries that say what it does in other words: no query, and no description,
shares a word with the function's name (`name_overlaps`), so a name match
cannot find it unless the name ranking guesses loosely.

Scoring (`score`): a query's rank is the 1-based place of its function in the
search answer, or None when absent; recall@k is the share of queries ranked
1..k, MRR the mean of 1/rank (0 when absent).
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

DATA_DIR: Final = Path(__file__).resolve().parent / "data" / "retrieval"
SOURCE_SUFFIX: Final = ".py.txt"
RECALL_AT: Final = 5
# snake_case and camelCase split alike: load_config, loadConfig, LoadConfig -> load, config.
_WORD_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
# A shorter word of at least this many letters that begins a longer one is the
# same word for this check (cache/cached, serve/server, env/environment).
_SHARED_PREFIX_MIN: Final = 3
# Words that carry no meaning of their own: a query sharing only these with its
# description shares no word with it (`shares_description_word`).
STOP_WORDS: Final = frozenset(
    """a all an and any are as at be been but by can do does each every for from has have
    how if in into is it its itself no not of on or so some than that the their them
    then there these this those to up was what when where whether which while who with
    without""".split()
)


@dataclass(frozen=True, slots=True)
class Case:
    """One function of the set, what it does, and what a user would type to find it."""

    group: str  # its source file: sources/<group>.py.txt, src/<group>.py in the workspace
    function: str  # its name (every function of the set is top-level: name == qualname)
    origin: str
    description: str
    queries: tuple[str, ...]

    @property
    def path(self) -> str:
        """Its file, relative to the workspace root."""
        return f"src/{self.group}.py"


@dataclass(frozen=True, slots=True)
class Scores:
    queries: int
    recall_at_k: float
    k: int
    mrr: float
    found: int  # ranked anywhere in the answer


def load_cases(data_dir: Path = DATA_DIR) -> list[Case]:
    data = json.loads((data_dir / "cases.json").read_text(encoding="utf-8"))
    return [
        Case(
            group=c["group"],
            function=c["function"],
            origin=c["origin"],
            description=c["description"],
            queries=tuple(c["queries"]),
        )
        for c in data["cases"]
    ]


def source_of(group: str, data_dir: Path = DATA_DIR) -> str:
    return (data_dir / "sources" / f"{group}{SOURCE_SUFFIX}").read_text(encoding="utf-8")


def groups_of(cases: Iterable[Case]) -> list[str]:
    return sorted({c.group for c in cases})


def words(text: str) -> list[str]:
    """Lower-cased words of a name or a query, snake_case and camelCase split."""
    return [part.lower() for part in _WORD_PART.findall(text)]


def same_word(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return short == long or (len(short) >= _SHARED_PREFIX_MIN and long.startswith(short))


def name_overlaps(case: Case) -> list[str]:
    """What, in the case's description and queries, shares a word with its name."""
    own = words(case.function)
    found = []
    for label, text in [("description", case.description)] + [
        (f"query {q!r}", q) for q in case.queries
    ]:
        shared = sorted({w for w in words(text) for n in own if same_word(w, n)})
        if shared:
            found.append(f"{case.function}: {label} shares {', '.join(shared)}")
    return found


def content_stems(text: str) -> set[str]:
    """A text's words without stop words, each cut to a crude stem (reads, reading -> read)."""
    return {_stem(word) for word in words(text) if word not in STOP_WORDS}


def _stem(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def shares_description_word(case: Case, query: str) -> bool:
    """Whether the query has a word of the description the gloss is written from: the
    queries that share none can only be found by meaning (or by chance)."""
    return bool(content_stems(query) & content_stems(case.description))


def defined_names(source: str) -> list[str]:
    """Every def and class of a module, at any depth (each is a span Gloss glosses)."""
    return [
        node.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]


def data_problems(cases: Sequence[Case], data_dir: Path = DATA_DIR) -> list[str]:
    """What is wrong with the set: a query or description naming its function, a
    function missing from its source or defined twice, a span with no case (its
    gloss would not come from a description), a case with no or too many queries."""
    problems: list[str] = []
    names = Counter(c.function for c in cases)
    problems += [f"{name}: {n} cases" for name, n in names.items() if n > 1]
    for case in cases:
        if not 1 <= len(case.queries) <= 2:
            problems.append(f"{case.function}: {len(case.queries)} queries (1 or 2)")
        if not case.description.strip() or not case.origin.strip():
            problems.append(f"{case.function}: no description or no origin")
        problems += name_overlaps(case)
    defined: Counter[str] = Counter()
    for group in groups_of(cases):
        in_group = {c.function for c in cases if c.group == group}
        found = defined_names(source_of(group, data_dir))
        defined.update(found)
        problems += [f"{group}: {n} has no case" for n in found if n not in in_group]
        problems += [f"{group}: {n} is not defined there" for n in in_group if n not in found]
    problems += [f"{name} is defined {n} times" for name, n in defined.items() if n > 1]
    return problems


def rank_of(answer: Sequence[tuple[str, str]], path: str, qualname: str) -> int | None:
    """1-based place of (path, qualname) in an answer of (path, qualname) pairs."""
    for place, hit in enumerate(answer, 1):
        if hit == (path, qualname):
            return place
    return None


def score(ranks: Sequence[int | None], k: int = RECALL_AT) -> Scores:
    if not ranks:
        return Scores(queries=0, recall_at_k=0.0, k=k, mrr=0.0, found=0)
    found = [r for r in ranks if r is not None]
    return Scores(
        queries=len(ranks),
        recall_at_k=sum(1 for r in found if r <= k) / len(ranks),
        k=k,
        mrr=sum(1 / r for r in found) / len(ranks),
        found=len(found),
    )
