"""Search at scale: hover, workspace/symbol and gloss/search from a real LSP client, beside
a bare SQLite FTS5 query of the same store (the floor), at 1k, 10k and 100k glossed spans.

Run:  .venv/bin/python -m bench.search [--sizes 1000,10000,100000] [--queries Q]
      [--hovers H] [--rounds R] [--index-spans N | --no-index-rate] [--profile PATH]
      [--nice N] [--quick] [--json PATH]

DESIGN.md budgets, judged at 100,000 spans: hover p99 <= 3 ms, workspace/symbol
and `gloss/search` p95 <= 10 ms, server RSS <= 120 MB; and Gloss's own cost
per span <= 1 ms (`gloss index` >= 1,000 spans/s against an instant backend).

Per size N, `bench.support.search_workspace` gives a cached workspace of N
spans (~20 per file, realistic names, every span glossed; how and why its
glosses are written is in that module's docstring). The server under test is
a real `python -m server --stdio` subprocess on a copy of that store, driven by
`bench.support.lsp_stdio` (framing and JSON at both ends included, as an editor
sees it). After `initialize` the bench waits for the server's first
`gloss/progress` (the scan has found every file unchanged; nothing is queued),
then, after a few unrecorded warm-up requests, runs R rounds of:

- H hovers on span names drawn with a seed, and the floor: the same lookup as
  one SQL statement (the span holding the line, joined to its gloss); then H
  requests of a method the server does not have (answered MethodNotFound at
  once): the LSP round trip itself (stdio, framing, JSON, dispatch), which no
  request can beat;
- Q workspace/symbol requests and Q `gloss/search` requests (limit 50), the
  queries an equal share of exact names, prefixes, substrings, misspellings,
  abbreviations and behaviour phrases (`make_queries`, seeded), and the floor
  for each: a plain `sqlite3` connection running the name FTS5 MATCH (the
  trigram index, the query as a phrase) and the gloss-text FTS5 MATCH (each
  word a quoted prefix term), each LIMIT 50, in the index's own order: the
  least any search of names and gloss text can cost. The same gloss-text
  MATCH ordered by bm25 (`ORDER BY rank`, which scores every matching row
  first) is timed too and shown beside it: what ranking naively costs.

The floor runs in the bench's process, between the server's batches, in the
same rounds, so both see the same machine; ratios are of medians (p50) and of
p95s. Server RSS comes from /proc/PID/status: VmRSS once ready and after the
queries, VmHWM (the peak, which includes the startup scan). The server's CPU
(all its threads) is read from /proc/PID/stat around each batch: CPU ms per
request of each kind, Gloss's own cost, which a busy machine disturbs far
less than a p99 (a note says when the round trip alone is over the hover
budget). If the
server does not know `gloss/search` (MethodNotFound), it is reported as not
available. `gloss index` spans/s and CPU per span come from
`bench.index_rate.measure_index_rate` (its own workspace of N small functions,
an instant `LLMServer` in its own process), run once.

`--nice N` runs the bench and every server it starts at that niceness (the
report says which): on a machine other work keeps busy, a p99 otherwise
measures the scheduler more than Gloss. `--profile PATH` runs the server at
the largest size under cProfile and writes its stats there (the event loop's
thread only; the reads run on threads of their own and show up as waiting).
A benchmark reports: it prints PASS/FAIL and exits 0 either way.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from bench.support.cli_args import BenchArgs, Option, int_list, positive_int
from bench.support.lsp_stdio import METHOD_NOT_FOUND, LspProcess, Timed
from bench.support.report import finish_report, loaded_machine_facts, machine_summary
from bench.support.report import report_json as report_json  # the bench's JSON, re-exported
from bench.support.search_workspace import (
    CACHE_ROOT,
    QUERY_KINDS,
    HoverTarget,
    Query,
    copy_store,
    glossed_workspace,
    hover_targets,
    make_queries,
    span_names,
)
from bench.support.workspace import source_commit
from enrich_core.llm.outbound import PROMPT_VERSION

REPO: Final = Path(__file__).resolve().parents[1]
HOVER_P99_MS: Final = 3.0
SYMBOL_P95_MS: Final = 10.0
SEARCH_P95_MS: Final = 10.0
RSS_MB: Final = 120.0
JUDGED_AT: Final = 100_000
SEARCH_METHOD: Final = "gloss/search"
PING_METHOD: Final = "bench/noSuchMethod"
LIMIT: Final = 50
READY_TIMEOUT_S: Final = 900.0
REQUEST_TIMEOUT_S: Final = 60.0
_TERM: Final = re.compile(r"[^\W_]+")  # one unicode61 token each: no phrase (detail=none)


@dataclass(frozen=True, slots=True)
class BenchConfig:
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    queries: int = 240  # per size and round: 40 of each kind
    hovers: int = 1_000  # per size and round
    rounds: int = 3
    warmup: int = 20
    index_spans: int = 10_000
    index_rate: bool = True
    cache: Path = CACHE_ROOT
    profile: Path | None = None
    quick: bool = False
    nice: int | None = None  # this process's niceness, inherited by every server it starts


QUICK: Final = BenchConfig(sizes=(300,), queries=24, hovers=60, rounds=1, warmup=3, index_spans=200)


@dataclass(frozen=True, slots=True)
class Latency:
    """Milliseconds over n samples."""

    n: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        ms = sorted(s * 1000 for s in seconds)
        if not ms:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        return cls(len(ms), _rank(ms, 0.5), _rank(ms, 0.95), _rank(ms, 0.99), ms[-1])


def _rank(sorted_ms: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    return sorted_ms[max(0, math.ceil(q * len(sorted_ms)) - 1)]


@dataclass(frozen=True, slots=True)
class KindFigures:
    """One query kind's latencies and what came back."""

    p50_ms: float
    p95_ms: float
    median_hits: float
    empty: int  # queries answered with nothing
    source_found: int | None  # queries whose source name is among the hits (not behaviour)
    queries: int
    floor_p50_ms: float  # the floor for this kind's queries: name + gloss-text FTS5
    floor_p95_ms: float
    floor_name_p95_ms: float  # its two parts
    floor_gloss_p95_ms: float
    ranked_gloss_p50_ms: float  # the gloss-text MATCH ORDER BY rank (information)
    ranked_gloss_p95_ms: float


@dataclass(frozen=True, slots=True)
class RequestFigures:
    latency: Latency
    floor: Latency
    p50_ratio: float  # server p50 / floor p50
    p95_ratio: float
    by_kind: dict[str, KindFigures]


@dataclass(frozen=True, slots=True)
class SizeResult:
    spans: int
    files: int
    glossed: int
    workspace_build_s: float  # 0 when the workspace came from the cache
    ready_s: float  # initialize -> the first gloss/progress after the scan
    queued_at_ready: int
    # The protocol's own floor: a request the server answers at once (MethodNotFound),
    # over the same stdio, framing and JSON as every other request.
    round_trip: Latency
    hover: RequestFigures
    hovers_empty: int  # hovers on a span's name answered null: measured, but no hover shown
    symbol: RequestFigures
    search: RequestFigures | None
    search_unavailable: str | None  # why gloss/search was not measured
    rss_ready_mb: float
    rss_after_mb: float
    rss_peak_mb: float
    server_cpu_ms_per_request: float
    # The server's CPU (user + system, all threads) per request of each kind, from
    # /proc/PID/stat around each batch (10 ms ticks): Gloss's own cost, which other
    # work on the machine changes far less than it changes a p99.
    server_cpu_ms: dict[str, float]
    requests: int
    hover_ok: bool
    symbol_ok: bool
    search_ok: bool | None
    rss_ok: bool


@dataclass(frozen=True, slots=True)
class BenchReport:
    machine: dict[str, Any]
    config: dict[str, Any]
    sizes: list[SizeResult]
    index_rate: dict[str, Any] | None
    judged: bool  # a 100k size was measured
    passed: bool | None  # None: not judged
    wall_seconds: float
    notes: list[str] = field(default_factory=list)


# --- the floor: the same store read by a plain sqlite3 connection ---------------------


class Floor:
    """The bare queries a search or hover cannot be cheaper than, on the same store."""

    def __init__(self, store: Path) -> None:
        self.conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, check_same_thread=False)
        # The trigram name index the store kept until schema 3 (names are matched in
        # memory now): made here, in the connection's temp schema, for the name floor.
        self.conn.execute(
            "CREATE VIRTUAL TABLE temp.names_fts USING fts5 (name, tokenize='trigram')"
        )
        self.conn.execute("INSERT INTO temp.names_fts (rowid, name) SELECT id, name FROM spans")

    def close(self) -> None:
        self.conn.close()

    def hover(self, target: HoverTarget) -> float:
        start = time.perf_counter()
        self.conn.execute(
            "SELECT s.*, g.body FROM spans s LEFT JOIN glosses g ON g.content_hash = "
            "s.content_hash AND g.prompt_version = ? WHERE s.path = ? AND s.start_line <= ? "
            "AND s.end_line >= ? ORDER BY s.start_line DESC LIMIT 1",
            (PROMPT_VERSION, target.path, target.line, target.line),
        ).fetchall()
        return time.perf_counter() - start

    def search(self, text: str) -> tuple[float, float, float]:
        """Seconds for the name MATCH, the gloss-text MATCH, and that one ranked by bm25."""
        phrase = '"' + text.replace('"', '""') + '"'
        terms = " ".join(f'"{t}"*' for t in _TERM.findall(text.lower()))
        start = time.perf_counter()
        self.conn.execute(
            "SELECT rowid FROM names_fts WHERE names_fts MATCH ? LIMIT ?", (phrase, LIMIT)
        ).fetchall()
        named = time.perf_counter()
        if not terms:
            return named - start, 0.0, 0.0
        self.conn.execute(
            "SELECT rowid FROM glosses_fts WHERE glosses_fts MATCH ? LIMIT ?", (terms, LIMIT)
        ).fetchall()
        glossed = time.perf_counter()
        self.conn.execute(
            "SELECT rowid FROM glosses_fts WHERE glosses_fts MATCH ? ORDER BY rank LIMIT ?",
            (terms, LIMIT),
        ).fetchall()
        return named - start, glossed - named, time.perf_counter() - glossed


# --- the server's process -------------------------------------------------------------


def proc_status_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB from /proc/PID/status."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024  # kB
    return fields["VmRSS"], fields["VmHWM"]


_CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def server_argv(profile: Path | None) -> list[str]:
    if profile is None:
        return [sys.executable, "-m", "server", "--stdio"]
    return [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "server", "--stdio"]


# --- one size ----------------------------------------------------------------------------


@dataclass
class _Samples:
    server: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    # per query (symbol/search): (kind, seconds, hits, source found)
    detail: list[tuple[str, float, int, bool | None]] = field(default_factory=list)
    # per query: (kind, name MATCH seconds, gloss-text MATCH seconds)
    # per query: (kind, name MATCH s, gloss-text MATCH s, gloss-text MATCH by rank s)
    floor_detail: list[tuple[str, float, float, float]] = field(default_factory=list)
    empty: int = 0  # answered null or []


def _hover_params(root: Path, t: HoverTarget) -> dict[str, Any]:
    return {
        "textDocument": {"uri": (root / t.path).as_uri()},
        "position": {"line": t.line, "character": t.character},
    }


def _names_in(method: str, result: Any) -> list[str]:
    if not isinstance(result, list):
        return []
    return [str(item.get("name")) for item in result if isinstance(item, dict)]


async def _ask(
    client: LspProcess, method: str, params: Any, samples: _Samples, query: Query | None
) -> Timed:
    answer = await client.timed(method, params, REQUEST_TIMEOUT_S)
    if answer.error is not None:
        raise RuntimeError(f"{method} {params!r}: {answer.error}")
    samples.server.append(answer.seconds)
    if not answer.result:
        samples.empty += 1
    if query is not None:
        names = _names_in(method, answer.result)
        found = None if query.source is None else query.source in names
        samples.detail.append((query.kind, answer.seconds, len(names), found))
    return answer


async def _ping(client: LspProcess) -> float:
    answer = await client.timed(PING_METHOD, {}, REQUEST_TIMEOUT_S)
    if answer.error is None or answer.error.get("code") != METHOD_NOT_FOUND:
        raise RuntimeError(f"{PING_METHOD}: expected MethodNotFound, got {answer}")
    return answer.seconds


async def _search_unavailable(client: LspProcess) -> str | None:
    answer = await client.timed(SEARCH_METHOD, {"query": "config", "limit": LIMIT})
    if answer.error is None:
        if isinstance(answer.result, list):
            return None
        return f"answered {type(answer.result).__name__}, not a list"
    if answer.error.get("code") == METHOD_NOT_FOUND:
        return "not available (the server does not know gloss/search)"
    return f"not available: {answer.error.get('message')}"


def _figures(samples: _Samples, queries: Sequence[Query] | None) -> RequestFigures:
    latency, floor = Latency.of(samples.server), Latency.of(samples.floor)
    by_kind: dict[str, KindFigures] = {}
    if queries is not None:
        for kind in QUERY_KINDS:
            rows = [d for d in samples.detail if d[0] == kind]
            if not rows:
                continue
            k = Latency.of([d[1] for d in rows])
            found = [d[3] for d in rows if d[3] is not None]
            floors = [d for d in samples.floor_detail if d[0] == kind]
            f = Latency.of([d[1] + d[2] for d in floors])
            by_kind[kind] = KindFigures(
                p50_ms=k.p50,
                p95_ms=k.p95,
                median_hits=float(statistics.median(d[2] for d in rows)),
                empty=sum(1 for d in rows if d[2] == 0),
                source_found=sum(found) if found else None,
                queries=len(rows),
                floor_p50_ms=f.p50,
                floor_p95_ms=f.p95,
                floor_name_p95_ms=Latency.of([d[1] for d in floors]).p95,
                floor_gloss_p95_ms=Latency.of([d[2] for d in floors]).p95,
                ranked_gloss_p50_ms=Latency.of([d[3] for d in floors]).p50,
                ranked_gloss_p95_ms=Latency.of([d[3] for d in floors]).p95,
            )
    return RequestFigures(
        latency=latency,
        floor=floor,
        p50_ratio=latency.p50 / floor.p50 if floor.p50 > 0 else math.nan,
        p95_ratio=latency.p95 / floor.p95 if floor.p95 > 0 else math.nan,
        by_kind=by_kind,
    )


async def measure_size(
    config: BenchConfig, spans: int, tmp: Path, notes: list[str], profile: Path | None
) -> SizeResult:
    workspace = await glossed_workspace(spans, config.cache)
    store = tmp / f"n{spans}" / "index.db"
    await asyncio.to_thread(copy_store, workspace.store, store)
    names = await asyncio.to_thread(span_names, store)
    queries = make_queries(names, config.queries)
    targets = await asyncio.to_thread(hover_targets, store, config.hovers * config.rounds)
    log = (tmp / f"server-{spans}.log").open("wb")
    env = {**os.environ, "GLOSS_LOG_LEVEL": "WARNING"}
    client = LspProcess(server_argv(profile), cwd=REPO, env=env, stderr=log)
    floor = Floor(store)
    try:
        await client.start()
        started = time.perf_counter()
        await client.initialize(workspace.root, workspace.settings(store))
        progress = await client.wait_notification(
            "gloss/progress", lambda p: bool(p and p.get("scanned")), READY_TIMEOUT_S
        )
        ready_s = time.perf_counter() - started
        queued = int(progress.get("queued", 0)) + int(progress.get("in_flight", 0))
        if queued:
            notes.append(f"N={spans}: {queued} spans queued at ready: the store is not all glossed")
        rss_ready, _ = proc_status_mb(client.pid)
        unavailable = await _search_unavailable(client)
        hover, symbol, search = _Samples(), _Samples(), _Samples()
        pings: list[float] = []
        scratch = _Samples()
        for t in targets[: config.warmup]:
            await _ask(
                client, "textDocument/hover", _hover_params(workspace.root, t), scratch, None
            )
        for q in queries[: config.warmup]:
            await _ask(client, "workspace/symbol", {"query": q.text}, scratch, None)
            if unavailable is None:
                params = {"query": q.text, "limit": LIMIT}
                await _ask(client, SEARCH_METHOD, params, scratch, None)
        cpu_before = proc_cpu_s(client.pid)
        cpu = {"round_trip": 0.0, "hover": 0.0, "symbol": 0.0, "search": 0.0}
        requests = 0
        for r in range(config.rounds):
            batch = targets[r * config.hovers : (r + 1) * config.hovers]
            started_cpu = proc_cpu_s(client.pid)
            for t in batch:
                await _ask(
                    client, "textDocument/hover", _hover_params(workspace.root, t), hover, None
                )
            cpu["hover"] += proc_cpu_s(client.pid) - started_cpu
            for t in batch:
                hover.floor.append(floor.hover(t))
            started_cpu = proc_cpu_s(client.pid)
            for _ in batch:
                pings.append(await _ping(client))
            cpu["round_trip"] += proc_cpu_s(client.pid) - started_cpu
            started_cpu = proc_cpu_s(client.pid)
            for q in queries:
                await _ask(client, "workspace/symbol", {"query": q.text}, symbol, q)
            cpu["symbol"] += proc_cpu_s(client.pid) - started_cpu
            if unavailable is None:
                started_cpu = proc_cpu_s(client.pid)
                for q in queries:
                    params = {"query": q.text, "limit": LIMIT}
                    await _ask(client, SEARCH_METHOD, params, search, q)
                cpu["search"] += proc_cpu_s(client.pid) - started_cpu
            for q in queries:
                name_s, gloss_s, ranked_s = floor.search(q.text)
                for samples in (symbol, search):
                    samples.floor.append(name_s + gloss_s)
                    samples.floor_detail.append((q.kind, name_s, gloss_s, ranked_s))
            requests += 2 * len(batch) + len(queries) * (2 if unavailable is None else 1)
        cpu_total = proc_cpu_s(client.pid) - cpu_before
        rss_after, rss_peak = proc_status_mb(client.pid)
    finally:
        floor.close()
        code = await client.stop()
        log.close()
    trip = Latency.of(pings)
    if trip.p99 > HOVER_P99_MS:
        notes.append(
            f"N={spans}: the LSP round trip alone (a MethodNotFound request) has p99 "
            f"{trip.p99:.1f} ms, over the hover budget: the machine's load, not Gloss, sets "
            "the hover p99 here (the server CPU per hover is the steadier figure)"
        )
    if hover.empty:
        notes.append(f"N={spans}: {hover.empty} hovers on a span's name were answered null")
    if code not in (0, None):
        notes.append(f"N={spans}: the server exited with {code} (log {log.name})")
    hover_f = _figures(hover, None)
    symbol_f = _figures(symbol, queries)
    search_f = _figures(search, queries) if unavailable is None else None
    return SizeResult(
        spans=workspace.spans,
        files=workspace.files,
        glossed=workspace.glossed,
        workspace_build_s=workspace.build_seconds,
        ready_s=ready_s,
        queued_at_ready=queued,
        round_trip=trip,
        hover=hover_f,
        hovers_empty=hover.empty,
        symbol=symbol_f,
        search=search_f,
        search_unavailable=unavailable,
        rss_ready_mb=rss_ready,
        rss_after_mb=rss_after,
        rss_peak_mb=rss_peak,
        server_cpu_ms_per_request=1000 * cpu_total / max(1, requests),
        server_cpu_ms={
            name: 1000 * seconds / max(1, count)
            for (name, seconds), count in zip(
                cpu.items(),
                (
                    len(pings),
                    len(hover.server),
                    len(symbol.server),
                    len(search.server),
                ),
                strict=True,
            )
        },
        requests=requests,
        hover_ok=hover_f.latency.p99 <= HOVER_P99_MS,
        symbol_ok=symbol_f.latency.p95 <= SYMBOL_P95_MS,
        search_ok=None if search_f is None else search_f.latency.p95 <= SEARCH_P95_MS,
        rss_ok=rss_peak <= RSS_MB,
    )


# --- the benchmark -----------------------------------------------------------------------


def _index_rate(spans: int) -> dict[str, Any]:
    from bench.index_rate import measure_index_rate

    return measure_index_rate(spans, apis=("ollama",))


async def run_benchmark(config: BenchConfig) -> BenchReport:
    if config.quick:
        config = replace(
            QUICK,
            cache=config.cache,
            profile=config.profile,
            index_rate=config.index_rate,
            nice=config.nice,
        )
    if config.nice is not None:
        os.setpriority(os.PRIO_PROCESS, 0, config.nice)
    wall = time.perf_counter()
    load_start, commit = os.getloadavg()[0], source_commit()
    notes: list[str] = []
    results: list[SizeResult] = []
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp_name:
        tmp = Path(tmp_name)
        largest = max(config.sizes)
        for spans in config.sizes:
            profile = config.profile if spans == largest else None
            results.append(await measure_size(config, spans, tmp, notes, profile))
    index_rate = None
    if config.index_rate:
        index_rate = await asyncio.to_thread(_index_rate, config.index_spans)
    judged_sizes = [r for r in results if r.spans >= JUDGED_AT]
    passed = (
        all(r.hover_ok and r.symbol_ok and r.search_ok is True and r.rss_ok for r in judged_sizes)
        if judged_sizes
        else None
    )
    if index_rate is not None and passed is not None:
        passed = passed and bool(index_rate.get("passed"))
    if any(r.search_unavailable for r in results):
        notes.append("gloss/search was not measured: " + str(results[0].search_unavailable))
    if config.profile is not None:
        notes.append(f"server profile at N={max(config.sizes):,}: {config.profile}")
    return BenchReport(
        machine=loaded_machine_facts(load_start, commit),
        config={
            "sizes": list(config.sizes),
            "queries": config.queries,
            "hovers": config.hovers,
            "rounds": config.rounds,
            "warmup": config.warmup,
            "limit": LIMIT,
            "nice": os.getpriority(os.PRIO_PROCESS, 0),
            "index_spans": config.index_spans if config.index_rate else None,
            "budgets": {
                "hover_p99_ms": HOVER_P99_MS,
                "symbol_p95_ms": SYMBOL_P95_MS,
                "search_p95_ms": SEARCH_P95_MS,
                "rss_mb": RSS_MB,
                "judged_at_spans": JUDGED_AT,
            },
        },
        sizes=results,
        index_rate=index_rate,
        judged=bool(judged_sizes),
        passed=passed,
        wall_seconds=time.perf_counter() - wall,
        notes=notes,
    )


# --- reporting ----------------------------------------------------------------------------


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else "PASS" if ok else "FAIL"


def _ratio(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


def _row(label: str, f: RequestFigures, shown: str, budget: str, ok: bool | None) -> str:
    lat, floor = f.latency, f.floor
    main = lat.p99 if shown == "p99" else lat.p95
    floor_main = floor.p99 if shown == "p99" else floor.p95
    return (
        f"  {label:<16} p50 {lat.p50:7.2f}  {shown} {main:7.2f} ms  (budget {budget})  "
        f"{_verdict(ok):>4} | floor p50 {floor.p50:6.3f} {shown} {floor_main:6.3f} ms | "
        f"x{_ratio(f.p50_ratio)} at p50, x{_ratio(f.p95_ratio)} at p95"
    )


def format_report(report: BenchReport) -> str:
    lines = [
        f"Search at scale, from an LSP client over stdio ({machine_summary(report.machine)}; "
        f"niceness {report.config['nice']})",
        "floor: a plain sqlite3 connection on the same store, in the same rounds "
        "(hover: one SELECT; search: the name and gloss-text FTS5 MATCH, LIMIT 50 each, "
        "unranked; 'by rank': the gloss-text MATCH ORDER BY bm25, for information)",
    ]
    for r in report.sizes:
        lines += [
            "",
            f"N = {r.spans:,} spans in {r.files:,} files ({r.glossed:,} glossed); "
            f"ready {r.ready_s:.2f} s after initialize"
            + (f"; workspace built in {r.workspace_build_s:.1f} s" if r.workspace_build_s else ""),
            f"  {'LSP round trip':<16} p50 {r.round_trip.p50:7.2f}  p99 {r.round_trip.p99:7.2f} ms "
            "(a request answered MethodNotFound at once: stdio, framing, JSON, dispatch)",
            _row("hover", r.hover, "p99", f"p99 <= {HOVER_P99_MS:g} ms", r.hover_ok),
            _row("workspace/symbol", r.symbol, "p95", f"p95 <= {SYMBOL_P95_MS:g} ms", r.symbol_ok),
        ]
        if r.search is not None:
            lines.append(
                _row("gloss/search", r.search, "p95", f"p95 <= {SEARCH_P95_MS:g} ms", r.search_ok)
            )
        else:
            lines.append(f"  {'gloss/search':<16} {r.search_unavailable}")
        lines.extend(
            (
                f"  {'server RSS':<16} ready {r.rss_ready_mb:.1f} MB, after the queries "
                f"{r.rss_after_mb:.1f} MB, peak {r.rss_peak_mb:.1f} MB (budget {RSS_MB:g} MB) "
                f"{_verdict(r.rss_ok)}",
                f"  {'server CPU':<16} "
                + ", ".join(f"{name} {ms:.2f}" for name, ms in r.server_cpu_ms.items())
                + f" ms per request (all {r.server_cpu_ms_per_request:.2f})",
            )
        )
        for label, figures in (("symbol", r.symbol), ("search", r.search)):
            if figures is None:
                continue
            parts = []
            for kind, k in figures.by_kind.items():
                found = "" if k.source_found is None else f", name found {k.source_found}"
                parts.append(
                    f"{kind} {k.p50_ms:.1f}/{k.p95_ms:.1f} ms (floor {k.floor_p50_ms:.2f}/"
                    f"{k.floor_p95_ms:.2f}, by rank {k.ranked_gloss_p50_ms:.2f}/"
                    f"{k.ranked_gloss_p95_ms:.2f}; {k.median_hits:g} hits, {k.empty} empty"
                    f"{found} of {k.queries})"
                )
            lines.append(f"  {label} by query kind, p50/p95:")
            lines += [f"    {part}" for part in parts]
    rate = report.index_rate
    if rate is not None:
        for api, a in rate["apis"].items():
            lines += [
                "",
                f"gloss index ({api}, {rate['config']['spans']:,} spans, instant backend, "
                f"{rate['config']['concurrency']} in flight): {a['spans_per_s']:.0f} spans/s, "
                f"{a['cpu_ms_per_span']:.2f} ms of Gloss's CPU per span (budget >= 1,000 "
                f"spans/s, <= 1 ms) {_verdict(bool(rate['passed']))}; bare client "
                f"{a['bare_per_s']:.0f} requests/s",
            ]
    lines += [
        "",
        "budgets at 100,000 spans: "
        + (_verdict(report.passed) if report.judged else "not judged (no 100,000-span size)"),
    ]
    return finish_report(lines, report.notes, report.wall_seconds)


size_list = int_list(10, "1000,10000")


OPTIONS: Final = (
    Option(
        "--sizes", "sizes", "span counts, comma-separated (default 1000,10000,100000)", size_list
    ),
    Option(
        "--queries", "queries", "queries per size and round (default %(default)s)", positive_int
    ),
    Option("--hovers", "hovers", "hovers per size and round (default %(default)s)", positive_int),
    Option("--rounds", "rounds", "rounds per size (default %(default)s)", positive_int),
    Option(
        "--index-spans",
        "index_spans",
        "spans for the gloss index rate (default %(default)s)",
        positive_int,
    ),
    Option("--no-index-rate", "index_rate", "skip the gloss index rate", action="store_false"),
    Option("--cache", "cache", "generated workspaces (default %(default)s)", Path),
    Option(
        "--profile",
        "profile",
        "write the server's cProfile stats at the largest size here",
        Path,
        metavar="PATH",
    ),
    Option(
        "--nice",
        "nice",
        "run the bench and the servers it starts at this niceness (below 0: root), so "
        "other work on the machine disturbs the figures less; reported",
        int,
        metavar="N",
    ),
    Option(
        "--quick",
        "quick",
        "one small size, few requests, a small index rate (for the test)",
        action="store_true",
    ),
)

DESCRIPTION: Final = (
    "Hover, workspace/symbol and gloss/search at 1k-100k spans beside bare SQLite FTS5."
)


def main(argv: Sequence[str] | None = None) -> int:
    cli = BenchArgs.with_options("python -m bench.search", DESCRIPTION, BenchConfig(), OPTIONS)
    return cli.run(argv, run_benchmark, format_report, report_json)


if __name__ == "__main__":
    sys.exit(main())
