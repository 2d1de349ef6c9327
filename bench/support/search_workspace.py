"""A glossed workspace of N spans for the search benchmark, and the queries asked of it.

What is generated (deterministic for a size and `GENERATOR_VERSION`):

- Python sources under `workspace/`: about `SPANS_PER_FILE` spans per file,
  about `FILES_PER_DIR` files per directory, in a two-level package tree
  (`billing/ledger/token_cache.py`). Names are what code has: snake_case
  functions (`load_user_config`, `_parse_header`), CamelCase classes
  (`CachedSessionStore`) with methods, and the names every codebase repeats
  across files (`__init__`, `get`, `run`, `close`, `to_dict`, `main`). Every
  span's text is distinct (its own content hash).
- The store (`index.db`, beside the workspace, not in it): the spans come
  from a real scan, `Engine.start(glossing=False)` + `Engine.scan()`, the
  same path `gloss index` and the server take. The glosses are then written
  through the real `enrich_core.store.writer.Writer` as `RecordResult`s, so
  the rows, the search text and the FTS index are exactly what the engine
  would store for a model's answer. Their text is generated here, not by a
  model: asking the test LLM server for 100,000 glosses takes many minutes
  and its answers are one template ("X does what its name says"), which would
  give full-text search no real work. Each gloss here describes its span's
  behaviour in two or three sentences drawn from synonym tables (`load` ->
  "reads", "pulls in"; `config` -> "settings", "configuration"), so a
  behaviour query's words are often not the name's words, plus sentences from
  shared pools (errors, conditions, callers), so common words recur as they
  do in real glosses. The glosses carry model "bench-synthetic" and backend
  "search_workspace" so no one mistakes them for a model's.
- Queries (`make_queries`), fixed by a seed: exact names, prefixes,
  substrings, misspellings, abbreviations and behaviour phrases, drawn from
  the generated names and the same phrase tables, never from what any search
  implementation does well.

Generated workspaces are cached under `~/.cache/gloss-bench/search/`, keyed by
size, `GENERATOR_VERSION`, the prompt version and the spans version (a store
from another Gloss would be re-scanned or re-glossed by the server under
test). A cache entry is built in a temporary sibling directory and renamed
into place, so an interrupted build never leaves a half entry. Callers
measure on a copy of the store (`copy_store`), never the cached file.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from bench.support.search_vocabulary import (
    AREAS,
    COMMON_FUNCTIONS,
    COMMON_METHODS,
    CONDITIONS,
    ERRORS,
    EXTRAS,
    NOUNS,
    PARAMS,
    QUALIFIERS,
    ROLES,
    VERBS,
)
from enrich_core.config import Config, parse_config
from enrich_core.llm.outbound import PROMPT_VERSION
from enrich_core.records.gloss import Gloss
from enrich_core.records.result import GlossResult
from enrich_core.records.span import SPANS_VERSION
from enrich_core.run.engine import Engine
from enrich_core.store.write_ops import RecordResult
from enrich_core.store.writer import Writer

# Part of the cache key: bump it whenever what `build` writes changes.
GENERATOR_VERSION: Final = "2"
CACHE_ROOT: Final = Path.home() / ".cache" / "gloss-bench" / "search"
SPANS_PER_FILE: Final = 20
FILES_PER_DIR: Final = 10
SEED: Final = 12
# Never called: glossing is off while the store is built, and the server under
# test finds every span glossed. A closed port on loopback, so a call would fail fast.
DEAD_BACKEND: Final = "http://127.0.0.1:9"
MODEL: Final = "bench-synthetic"
GLOSS_WRITE_BATCH: Final = 2_000

# --- planning the spans ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedSpan:
    """One definition to write: its name and what its gloss says it does."""

    name: str
    kind: str  # "function", "class" or "method"
    owner: str | None  # the class of a method
    verb: str
    noun: str
    qualifier: str | None
    serial: int  # unique in the workspace: makes each span's text distinct


@dataclass(frozen=True, slots=True)
class PlannedFile:
    path: str
    area: str
    spans: tuple[PlannedSpan, ...]  # in file order; a class is followed by its methods


def _camel(word: str) -> str:
    return word[:1].upper() + word[1:]


class _Planner:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0
        self.verbs = list(VERBS)
        self.nouns = list(NOUNS)
        self.qualifiers = list(QUALIFIERS)
        # Zipf-like: a few nouns and verbs are everywhere, most are rarer.
        self.noun_weights = [1.0 / (i + 1) ** 0.8 for i in range(len(self.nouns))]
        self.verb_weights = [1.0 / (i + 1) ** 0.7 for i in range(len(self.verbs))]

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def verb(self) -> str:
        return self.rng.choices(self.verbs, self.verb_weights)[0]

    def noun(self) -> str:
        return self.rng.choices(self.nouns, self.noun_weights)[0]

    def function(self, area: str) -> PlannedSpan:
        rng = self.rng
        verb, noun = self.verb(), self.noun()
        qualifier = rng.choice(self.qualifiers) if rng.random() < 0.3 else None
        roll = rng.random()
        if roll < 0.04:
            name = rng.choice(list(COMMON_FUNCTIONS))
            return PlannedSpan(name, "function", None, verb, noun, None, self._next())
        if roll < 0.12:
            other = self.noun()
            name = f"{verb}_{noun}_{rng.choice(('to', 'from', 'for', 'by'))}_{other}"
        elif qualifier is not None:
            name = f"{verb}_{qualifier}_{noun}"
        else:
            name = f"{verb}_{noun}"
        if rng.random() < 0.15:
            name = "_" + name
        return PlannedSpan(name, "function", None, verb, noun, qualifier, self._next())

    def klass(self, methods: int) -> list[PlannedSpan]:
        rng = self.rng
        noun = self.noun()
        qualifier = rng.choice(self.qualifiers) if rng.random() < 0.5 else None
        role = rng.choice(list(ROLES))
        name = (_camel(qualifier) if qualifier else "") + _camel(noun) + role
        spans = [PlannedSpan(name, "class", None, "handle", noun, qualifier, self._next())]
        used: set[str] = set()
        for k in range(methods):
            if k == 0:
                method = "__init__"
            elif rng.random() < 0.45:
                method = rng.choice(list(COMMON_METHODS))
            else:
                verb, other = self.verb(), self.noun() if rng.random() < 0.5 else noun
                method = f"{verb}_{other}" if rng.random() < 0.8 else f"_{verb}_{other}"
            for _ in range(20):  # bounded: a class's method names are distinct
                if method not in used:
                    break
                method = f"{self.verb()}_{self.noun()}"
            else:
                method = f"{self.verb()}_{self.noun()}_{k}"
            used.add(method)
            verb = method.strip("_").split("_")[0]
            spans.append(
                PlannedSpan(
                    method,
                    "method",
                    name,
                    verb if verb in VERBS else self.verb(),
                    noun,
                    None,
                    self._next(),
                )
            )
        return spans


def plan_workspace(spans: int, seed: int = SEED) -> list[PlannedFile]:
    """Files holding exactly `spans` definitions (classes, their methods, functions)."""
    planner = _Planner(seed)
    rng = planner.rng
    files: list[PlannedFile] = []
    left = spans
    used_paths: set[str] = set()
    used_dirs: set[str] = set()
    directory = ""
    while left > 0:
        index = len(files)
        if index % FILES_PER_DIR == 0:
            area = AREAS[(index // FILES_PER_DIR) % len(AREAS)]
            directory = f"{area}/{planner.noun()}s"
            n = 2
            while directory in used_dirs:
                directory = f"{area}/{planner.noun()}s_{n}"
                n += 1
            used_dirs.add(directory)
        area = directory.split("/", 1)[0]
        base = f"{planner.noun()}_{rng.choice(('utils', 'core', 'io', 'api', 'models', 'ops'))}"
        path = f"{directory}/{base}.py"
        n = 2
        while path in used_paths:
            path = f"{directory}/{base}_{n}.py"
            n += 1
        used_paths.add(path)
        target = min(left, max(1, int(rng.gauss(SPANS_PER_FILE, 5))))
        planned: list[PlannedSpan] = []
        while len(planned) < target:
            room = target - len(planned)
            if room >= 3 and rng.random() < 0.35:
                planned += planner.klass(min(room - 1, rng.randint(2, 8)))
            else:
                planned.append(planner.function(area))
        files.append(PlannedFile(path, area, tuple(planned)))
        left -= len(planned)
    return files


# --- the sources -------------------------------------------------------------------


def _params(rng: random.Random, method: bool) -> list[str]:
    chosen = sorted(set(rng.sample(PARAMS, rng.randint(0, 3))), key=PARAMS.index)
    # Keep Python's order rules: *args before keyword defaults is fine, ** last.
    plain = [p for p in chosen if "=" not in p and not p.startswith("*")]
    starred = [p for p in chosen if p == "*args"]
    defaults = [p for p in chosen if "=" in p]
    kwargs = [p for p in chosen if p == "**kwargs"]
    return (["self"] if method else []) + plain + starred + defaults + kwargs


def _function_text(span: PlannedSpan, rng: random.Random, indent: str) -> str:
    params = _params(rng, span.kind == "method")
    first = next((p for p in params if p != "self"), None)
    arg = first.split("=")[0].lstrip("*") if first else "None"
    lines = [f"{indent}def {span.name}({', '.join(params)}):"]
    if rng.random() < 0.3:
        lines.append(f'{indent}    """{_camel(span.verb)} the {span.noun}."""')
    body = indent + "    "
    shape = rng.randrange(4)
    if shape == 0:
        lines += [
            f"{body}result = {{'id': {span.serial}, 'value': {arg}}}",
            f"{body}return result",
        ]
    elif shape == 1:
        lines += [
            f"{body}if {arg} is None:",
            f"{body}    raise ValueError('{span.name}: missing input ({span.serial})')",
            f"{body}return [item for item in {arg} if item != {span.serial}]",
        ]
    elif shape == 2:
        lines += [
            f"{body}total = {span.serial}",
            f"{body}for step in range({rng.randint(2, 9)}):",
            f"{body}    total += step * {rng.randint(2, 99)}",
            f"{body}return total",
        ]
    else:
        lines += [
            f"{body}try:",
            f"{body}    return str({arg}).strip()",
            f"{body}except Exception:  # bench span {span.serial}",
            f"{body}    return None",
        ]
    return "\n".join(lines)


def file_text(planned: PlannedFile) -> str:
    rng = random.Random(planned.spans[0].serial)
    parts = [f'"""{_camel(planned.area)}: {planned.path.rsplit("/", 1)[1][:-3]}."""']
    i = 0
    spans = planned.spans
    while i < len(spans):
        span = spans[i]
        if span.kind == "class":
            head = [f"class {span.name}:"]
            if rng.random() < 0.4:
                head.append(f'    """{_class_doc(span)}"""')
            head.append(f"    kind = {span.serial}")
            methods = []
            i += 1
            while i < len(spans) and spans[i].kind == "method":
                methods.append(_function_text(spans[i], rng, "    "))
                i += 1
            parts.append("\n".join(head) + "\n\n" + "\n\n".join(methods))
        else:
            parts.append(_function_text(span, rng, ""))
            i += 1
    return "\n\n\n".join(parts) + "\n"


def _class_doc(span: PlannedSpan) -> str:
    role = next((r for r in ROLES if span.name.endswith(r)), "Manager")
    return f"{_camel(ROLES[role])} {NOUNS[span.noun][0]} objects."


def write_sources(root: Path, files: Sequence[PlannedFile]) -> None:
    for planned in files:
        target = root / planned.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file_text(planned))


# --- the glosses -------------------------------------------------------------------


def _phrase(rng: random.Random, table: dict[str, tuple[str, ...]], word: str) -> str:
    options = table.get(word)
    return rng.choice(options) if options else word.replace("_", " ")


def gloss_for(
    name: str, qualname: str, kind: str, path: str, signature: str, rng: random.Random
) -> Gloss:
    """A varied, plausible gloss for a span, from its name's words and the phrase tables."""
    words = [w for w in name.strip("_").split("_") if w]
    area = path.split("/", 1)[0]
    owner = qualname.rsplit(".", 1)[0] if "." in qualname else None
    verb = next((w for w in words if w in VERBS), None)
    nouns = [w for w in words if w in NOUNS]
    noun = nouns[-1] if nouns else rng.choice(list(NOUNS))
    qualifier = next((w for w in words if w in QUALIFIERS), None)
    noun_text = _phrase(rng, NOUNS, noun)
    if kind == "class":
        role = next((r for r in ROLES if name.endswith(r)), None)
        first = (
            f"{_camel(ROLES[role])} {noun_text} objects for the {area} package"
            if role
            else f"Represents a {noun_text} in the {area} package"
        )
    elif name in COMMON_METHODS and owner is not None:
        first = COMMON_METHODS[name].format(owner=owner, noun=noun_text).rstrip(".")
    elif name in COMMON_FUNCTIONS:
        first = COMMON_FUNCTIONS[name].format(area=area, noun=noun_text).rstrip(".")
    else:
        action = _camel(_phrase(rng, VERBS, verb or "process"))
        what = f"{QUALIFIERS[qualifier]} {noun_text}" if qualifier else f"the {noun_text}"
        first = f"{action} {what}"
        if len(nouns) > 1:
            first += f" and turns it into a {_phrase(rng, NOUNS, nouns[0])}"
        if owner is not None:
            first += f" for the {owner}"
    sentences = [first + "."]
    if rng.random() < 0.7:
        sentences.append(
            f"Raises {rng.choice(ERRORS)} when {rng.choice(CONDITIONS)}."
            if rng.random() < 0.5
            else f"Returns None when {rng.choice(CONDITIONS)}."
        )
    sentences.append(rng.choice(EXTRAS))
    params = [
        p.split("=")[0].split(":")[0].strip().lstrip("*")
        for p in signature.partition("(")[2].rpartition(")")[0].split(",")
    ]
    params = [p for p in params if p and p != "self"]
    tags = sorted({area, noun, *([verb] if verb else []), rng.choice(list(NOUNS))})
    return Gloss(
        summary=" ".join(sentences),
        inputs=tuple(f"{p}: the {_phrase(rng, NOUNS, p.split('_')[0])} to use" for p in params),
        outputs=(f"the {_phrase(rng, NOUNS, noun)}" if kind != "class" else f"a {name}",),
        side_effects=(f"{_camel(rng.choice(EXTRAS))}",) if rng.random() < 0.3 else (),
        pitfalls=(f"Fails when {rng.choice(CONDITIONS)}.",),
        usage_snippet=f"{name}({', '.join(params)})",
        tags=tuple(tags[:4]),
    )


def _glossed(span_row: tuple[str, str, str, str, str, str], rng: random.Random) -> RecordResult:
    content_hash, name, qualname, kind, path, signature = span_row
    gloss = gloss_for(name, qualname, kind, path, signature, rng)
    result = GlossResult(
        content_hash=content_hash,
        gloss=gloss,
        model=MODEL,
        tier="bench",
        backend="search_workspace",
        tokens_in=0,
        tokens_out=0,
        tokens_estimated=True,
        attempts=1,
        first_tier="bench",
    )
    return RecordResult(result, PROMPT_VERSION)


async def write_glosses(store: Path, seed: int = SEED) -> int:
    """A gloss for every span of `store` without one, through the real Writer: how many."""
    with closing(sqlite3.connect(store)) as conn:
        rows = conn.execute(
            "SELECT content_hash, min(name), min(qualname), min(kind), min(path), min(signature) "
            "FROM spans WHERE content_hash NOT IN "
            "(SELECT content_hash FROM glosses WHERE prompt_version = ?) "
            "GROUP BY content_hash ORDER BY content_hash",
            (PROMPT_VERSION,),
        ).fetchall()
    writer = Writer(store, max_rows=GLOSS_WRITE_BATCH)
    await writer.start()
    try:
        for start in range(0, len(rows), GLOSS_WRITE_BATCH):
            for row in rows[start : start + GLOSS_WRITE_BATCH]:
                # Seeded by the span's own text: the same gloss whatever order the
                # scan wrote the spans in (parsing runs in parallel).
                writer.submit(_glossed(row, random.Random(f"{seed}:{row[0]}")))
            await writer.flush()
    finally:
        await writer.stop()
    return len(rows)


# --- the cached workspace -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GlossedWorkspace:
    """A generated, scanned and glossed workspace: sources under `root`, its store."""

    root: Path
    store: Path
    spans: int
    files: int
    glossed: int
    build_seconds: float  # 0 when it came from the cache
    cached: bool

    def settings(self, store: Path | None = None) -> dict[str, Any]:
        """The Gloss settings (gloss.toml's structure) a server or CLI needs for it: the
        store (this one or a copy) and a backend that is never called."""
        return settings_for(store or self.store)


def settings_for(store: Path, backend_url: str = DEAD_BACKEND, capacity: int = 2) -> dict[str, Any]:
    return {
        "store": {"path": str(store)},
        "backends": [
            {
                "name": "bench",
                "kind": "ollama",
                "url": backend_url,
                "max_concurrency": capacity,
                "timeout_s": 30.0,
                "max_retries": 0,
            }
        ],
        "tiers": [{"name": "bench", "model": "bench-model:7b", "backends": ["bench"]}],
    }


def config_for(store: Path, backend_url: str = DEAD_BACKEND, capacity: int = 2) -> Config:
    return parse_config(settings_for(store, backend_url, capacity), source="bench")


def cache_key(spans: int) -> str:
    return f"g{GENERATOR_VERSION}-p{PROMPT_VERSION}-s{SPANS_VERSION}-n{spans}"


def store_counts(store: Path) -> tuple[int, int, int]:
    """(spans, files with spans, spans whose text has a current gloss) in `store`."""
    with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as conn:
        (spans,) = conn.execute("SELECT count(*) FROM spans").fetchone()
        (files,) = conn.execute("SELECT count(DISTINCT path) FROM spans").fetchone()
        (glossed,) = conn.execute(
            "SELECT count(*) FROM spans s WHERE EXISTS (SELECT 1 FROM glosses g "
            "WHERE g.content_hash = s.content_hash AND g.prompt_version = ?)",
            (PROMPT_VERSION,),
        ).fetchone()
    return int(spans), int(files), int(glossed)


async def build(directory: Path, spans: int, seed: int = SEED) -> GlossedWorkspace:
    """Generate, scan and gloss a workspace of `spans` spans in `directory` (fresh)."""
    start = time.monotonic()
    root, store = directory / "workspace", directory / "index.db"
    plan = plan_workspace(spans, seed)
    await asyncio.to_thread(write_sources, root, plan)
    engine = Engine(root, config_for(store))
    await engine.start(glossing=False)
    try:
        await engine.scan()
    finally:
        await engine.stop()
    await write_glosses(store, seed)
    with closing(sqlite3.connect(store)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    found, files, glossed = await asyncio.to_thread(store_counts, store)
    if found != spans or glossed != spans:
        raise RuntimeError(
            f"generated workspace of {spans} spans scanned as {found} spans, {glossed} glossed: "
            "the generator and the indexer disagree on what a span is"
        )
    seconds = time.monotonic() - start
    manifest = {"spans": found, "files": files, "glossed": glossed, "build_seconds": seconds}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return GlossedWorkspace(root, store, found, files, glossed, seconds, cached=False)


async def glossed_workspace(
    spans: int, cache: Path = CACHE_ROOT, *, seed: int = SEED
) -> GlossedWorkspace:
    """The cached workspace of `spans` spans, built first if it is not cached yet."""
    directory = cache / (cache_key(spans) + ("" if seed == SEED else f"-seed{seed}"))
    found = await asyncio.to_thread(_cached, directory)
    if found is not None:
        return found
    building = await asyncio.to_thread(_building_dir, directory)
    try:
        built = await build(building, spans, seed)
        # The store names no absolute path of its own; the workspace's files
        # are stamped by mtime and size, which a rename keeps.
        await asyncio.to_thread(building.rename, directory)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, building, True)
        raise
    return replace(built, root=directory / "workspace", store=directory / "index.db")


def _cached(directory: Path) -> GlossedWorkspace | None:
    manifest = directory / "manifest.json"
    if not manifest.is_file():
        return None
    data = json.loads(manifest.read_text())
    return GlossedWorkspace(
        directory / "workspace",
        directory / "index.db",
        int(data["spans"]),
        int(data["files"]),
        int(data["glossed"]),
        0.0,
        cached=True,
    )


def _building_dir(directory: Path) -> Path:
    """A fresh sibling to build in, renamed into place once whole."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    building = directory.parent / f".{directory.name}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    return building


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy of a closed store, via SQLite's backup API."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


# --- the queries -----------------------------------------------------------------------

QUERY_KINDS: Final = ("exact", "prefix", "substring", "misspelling", "abbreviation", "behaviour")


@dataclass(frozen=True, slots=True)
class Query:
    kind: str
    text: str
    source: str | None  # the name it was made from (None for a behaviour phrase)


_WORD: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def name_words(name: str) -> list[str]:
    """The words of a snake_case or CamelCase name, lower case: `LoadUserConfig`,
    `load_user_config` -> load, user, config."""
    return [w.lower() for w in _WORD.findall(name)]


def _misspell(word: str, rng: random.Random) -> str:
    letters = word.strip("_")
    if len(letters) < 4:
        return letters + letters[-1:]
    i = rng.randrange(1, len(letters) - 1)
    how = rng.randrange(3)
    if how == 0:  # a letter dropped
        return letters[:i] + letters[i + 1 :]
    if how == 1:  # two letters swapped
        return letters[: i - 1] + letters[i] + letters[i - 1] + letters[i + 1 :]
    return letters[:i] + letters[i] + letters[i:]  # a letter doubled


def _abbreviate(name: str, rng: random.Random) -> str:
    words = name_words(name)
    if len(words) >= 2 and rng.random() < 0.4:
        return "".join(w[0] for w in words)  # initials: luc for load_user_config
    out = []
    for w in words:  # a consonant skeleton: ldcnfg for load_config
        skeleton = w[0] + "".join(c for c in w[1:] if c not in "aeiou")
        out.append(skeleton[:3])
    return "".join(out)


def _behaviour(rng: random.Random) -> str:
    verb = rng.choice(list(VERBS))
    noun = rng.choice(list(NOUNS))
    phrase = f"{_phrase(rng, VERBS, verb)} {_phrase(rng, NOUNS, noun)}"
    if rng.random() < 0.3:
        phrase += f" when {rng.choice(CONDITIONS)}"
    return phrase.lower()


def make_queries(names: Sequence[str], count: int, seed: int = SEED) -> list[Query]:
    """`count` queries, an equal share of each kind, made from these span names."""
    rng = random.Random(seed)
    plain = sorted({n for n in names if n.strip("_")})
    if not plain:
        raise ValueError("no names to make queries from")
    queries: list[Query] = []
    for i in range(count):
        kind = QUERY_KINDS[i % len(QUERY_KINDS)]
        name = rng.choice(plain)
        bare = name.strip("_")
        if kind == "exact":
            text = name
        elif kind == "prefix":
            text = bare[: rng.randint(3, max(3, min(8, len(bare))))]
        elif kind == "substring":
            if len(bare) <= 5:
                text = bare
            else:
                start = rng.randrange(1, len(bare) - 3)
                text = bare[start : start + rng.randint(4, 8)]
        elif kind == "misspelling":
            words = name_words(bare)
            j = rng.randrange(len(words))
            words[j] = _misspell(words[j], rng)
            text = ("_" if "_" in bare else "").join(words)
        elif kind == "abbreviation":
            text = _abbreviate(name, rng)
        else:
            text, name = _behaviour(rng), ""
        queries.append(Query(kind, text, name or None))
    return queries


def span_names(store: Path) -> list[str]:
    with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as conn:
        return [r[0] for r in conn.execute("SELECT DISTINCT name FROM spans ORDER BY name")]


@dataclass(frozen=True, slots=True)
class HoverTarget:
    path: str
    line: int  # 0-based, the span's name line
    character: int


def hover_targets(store: Path, count: int, seed: int = SEED) -> list[HoverTarget]:
    """`count` span name positions, drawn with a seed (repeats allowed past the span count)."""
    with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT path, name_line, name_col FROM spans ORDER BY id").fetchall()
    rng = random.Random(seed)
    picks: Iterator[tuple[str, int, int]] = (rng.choice(rows) for _ in range(count))
    return [HoverTarget(p, line, col) for p, line, col in picks]
