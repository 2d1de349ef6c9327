"""Pipeline throughput: how busy Gloss keeps an LLM server that serves C requests at once.

Run:  .venv/bin/python -m bench.pipeline_throughput [--spans N] [--capacity C]
      [--latency-ms L] [--repeats R] [--naive-spans M] [--json PATH]

DESIGN.md budget: with a backend that serves C requests at once, L ms each, Gloss
keeps it at least 95% as busy as a bare HTTP client holding exactly C requests in
flight against the same server in the same run, and never exceeds the cap C.

The server under test is `bench.support.llm_server.LLMServer(capacity=C, latency_s=L)` on
127.0.0.1, in a thin subclass that also notes when each chat answer leaves
(`TimedLLMServer`), run in a process of its own as a real backend is
(`bench.support.server_process`): in this process its threads would share the GIL with
the client under test and slow down with any Python work the client does.
Variants:

- `bare`: an `httpx.AsyncClient` with exactly C worker coroutines, so exactly C
  requests in flight, POSTing to `/api/chat` the very bodies Gloss sends for the
  N spans (built here from the same spans, prompt and tier settings; the run
  checks them against the bodies the server recorded from Gloss). The baseline.
- `gloss`: the real `enrich_core.run.engine.Engine` on a temp workspace of N small,
  distinct functions, configured by `enrich_core.config.parse_config` with one
  Ollama backend at the server (`max_concurrency = C`) and one tier; a fresh
  database per run, so every span needs an LLM call: `start()`, `scan()`,
  `wait_idle()`, `stop()`.
- `naive`: one request at a time (a sequential client, 1 in flight) against the
  same server: the naive baseline. It sends only the first `--naive-spans`
  bodies (default 20), since rates are compared and it is C times slower.
- `bare_2hosts` / `gloss_2hosts`: two servers of different speeds (by default
  capacity 2 at 100 ms and capacity 2 at 400 ms). The bare client holds C_i
  requests in flight to each host, all pulling from one shared list of bodies;
  Gloss has the two hosts as two backends of one tier. Ideal = sum of C_i / L_i.

What is timed (identical for every variant, so bare and Gloss are symmetric):
the server's busy window, from the first chat request any server under test
receives to the last answer it sends; rate = answers / window; "of ideal" =
rate / (C / L). This is the pipeline's throughput while it is glossing: it leaves
out what happens before the first request (engine start, the scan that parses the
workspace and queues the backlog) and after the last answer (the writer's final
commit, which waits up to 250 ms for more rows). Those are reported for Gloss
separately, for information: the scan's duration, and the end-to-end rate from
the start of `scan()` until the last gloss is committed (the last result
listener call, `Engine.add_listener`). The run also checks that every span got a
gloss (listener and the store's own count) and, for every variant, records the
servers' peak `max_in_flight`: a run above its cap is a loud FAIL.

Variants alternate order between repeats (forward, then reversed); the single-host
variants of one repeat share one server, the two-host variants one pair of
servers. Medians, minima and maxima are reported; the budget is judged on the
ratio of the medians of `gloss` and `bare`. A benchmark reports: it prints
PASS/FAIL and exits 0 either way.
"""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

import httpx

from bench.support.cli_args import BenchArgs, Option, positive_float, positive_int
from bench.support.report import finish_report, machine_facts
from bench.support.report import report_json as report_json  # the bench's JSON, re-exported
from bench.support.server_process import ServerProcess
from bench.support.timed_server import TimedLLMServer
from bench.support.workspace import (
    REQUEST_TIMEOUT_S,
    bench_config,
    write_workspace,
)
from enrich_core.config import BackendConfig, Config, TierConfig
from enrich_core.llm.backend import REPEAT_PENALTY
from enrich_core.llm.outbound import prompt_for
from enrich_core.records.gloss import GLOSS_SCHEMA
from enrich_core.records.result import GlossResult
from enrich_core.records.span import Span
from enrich_core.run.engine import Engine
from enrich_core.run.scheduler import SpanRef
from enrich_core.source.discovery import SourceFile
from enrich_core.source.indexer import Indexer
from enrich_core.source.parsed_file import ParsedFile

Variant = Literal["bare", "gloss", "naive", "bare_2hosts", "gloss_2hosts"]
SINGLE_HOST: Final[tuple[Variant, ...]] = ("bare", "gloss", "naive")
TWO_HOSTS: Final[tuple[Variant, ...]] = ("bare_2hosts", "gloss_2hosts")
VARIANTS: Final[tuple[Variant, ...]] = SINGLE_HOST + TWO_HOSTS
LABELS: Final[dict[Variant, str]] = {
    "bare": "bare client, C in flight",
    "gloss": "Gloss Engine",
    "naive": "naive: sequential, 1 in flight",
    "bare_2hosts": "bare client, 2 hosts",
    "gloss_2hosts": "Gloss Engine, 2 hosts / 1 tier",
}
BUDGET_RATIO: Final = 0.95
# DESIGN.md: on 2 cores the bare client reaches ~0.86-0.89 of C / L. Well above
# that, L dwarfs any client's per-request overhead and the comparison is lenient.
LENIENT_FRACTION: Final = 0.92


@dataclass(frozen=True, slots=True)
class HostSpec:
    capacity: int
    latency_s: float

    @property
    def ideal_per_s(self) -> float:
        return self.capacity / self.latency_s


@dataclass(frozen=True, slots=True)
class BenchConfig:
    # The regime DESIGN.md's baseline figure describes: at L = 20 ms with C = 4 a
    # bare client reaches ~0.8-0.89 of ideal on 2 cores, so per-request overhead
    # shows; at hundreds of ms any client looks ideal.
    spans: int = 400
    capacity: int = 4
    latency_s: float = 0.02
    repeats: int = 3
    naive_spans: int = 20
    hosts: tuple[HostSpec, ...] = (HostSpec(2, 0.1), HostSpec(2, 0.4))

    @property
    def single(self) -> HostSpec:
        return HostSpec(self.capacity, self.latency_s)


# What the bench measures against: the server in a process of its own (the
# benchmark itself), or in this process (the bench's tests, which need no timing).
TimedServer = TimedLLMServer | ServerProcess


@dataclass(frozen=True, slots=True)
class HostStats:
    """One server's view of one run."""

    capacity: int
    latency_s: float
    requests: int  # chat requests received
    answers: int  # chat requests that left flight
    max_in_flight: int
    max_serving: int
    first_request_at: float | None  # time.monotonic()
    last_answer_at: float | None

    @property
    def cap_ok(self) -> bool:
        return self.max_in_flight <= self.capacity


@dataclass(frozen=True, slots=True)
class RunResult:
    variant: Variant
    repeat: int
    spans: int  # spans (request bodies) the run had to get through
    in_flight: int  # requests the client may hold at once (Gloss: its backends' caps)
    completed: int  # bare: 200 answers parsed; Gloss: spans with a gloss committed
    failed: int
    window_s: float  # first request received -> last answer sent, over all hosts
    per_s: float  # answers / window_s
    ideal_per_s: float  # sum of capacity / latency over the hosts used
    fraction_of_ideal: float
    max_in_flight: int  # the largest peak over the hosts
    cap_ok: bool  # every host's peak <= its capacity
    hosts: list[HostStats]
    scan_s: float | None = None  # Gloss: `scan()` alone
    end_to_end_s: float | None = None  # Gloss: `scan()` start -> last gloss committed
    end_to_end_per_s: float | None = None
    store_enriched: int | None = None  # Gloss: the store's own count afterwards
    bodies_match: bool | None = None  # Gloss: server saw exactly the bare client's bodies


@dataclass(frozen=True, slots=True)
class VariantSummary:
    variant: Variant
    label: str
    runs: list[RunResult]
    median_per_s: float
    min_per_s: float
    max_per_s: float
    median_fraction_of_ideal: float
    max_in_flight: int
    cap_ok: bool
    all_completed: bool


@dataclass(frozen=True, slots=True)
class BenchReport:
    machine: dict[str, Any]
    config: dict[str, Any]
    variants: dict[str, VariantSummary]
    ratio: float  # gloss / bare, medians of the single-host runs
    paired_ratios: list[float]  # gloss / bare within each repeat (same server)
    ratio_2hosts: float  # gloss_2hosts / bare_2hosts, medians
    speedup_vs_naive: float  # gloss / naive, medians
    budget_ratio: float
    cap_ok: bool
    all_completed: bool
    passed: bool
    wall_seconds: float
    notes: list[str] = field(default_factory=list)


# --- the workspace and the request bodies ------------------------------------


def load_spans(root: Path, config: Config) -> list[Span]:
    """The workspace's spans in file order, parsed as the engine parses them."""
    indexer = Indexer(root.resolve(), config.index)
    spans: list[Span] = []
    sources = [f for f in indexer.walk() if isinstance(f, SourceFile)]
    for source in sorted(sources, key=lambda f: f.path):
        parsed = indexer.parse_file(source)
        if not isinstance(parsed, ParsedFile):
            raise RuntimeError(f"bench workspace file skipped: {parsed}")
        spans.extend(parsed.spans)
    return spans


def ollama_body(span: Span, tier: TierConfig, backend: BackendConfig) -> dict[str, Any]:
    """The body `OllamaBackend.complete` POSTs to /api/chat for this span and tier."""
    return {
        "model": tier.model,
        "messages": prompt_for(span).as_list(),
        "stream": False,
        "format": GLOSS_SCHEMA,
        "keep_alive": backend.keep_alive,
        "options": {
            "temperature": tier.temperature,
            "num_predict": tier.max_tokens,
            "num_ctx": tier.context_tokens,
            "repeat_penalty": REPEAT_PENALTY,
        },
    }


def body_key(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True)


# --- measuring ------------------------------------------------------------------


def host_stats(server: TimedServer) -> HostStats:
    requests = server.requests
    answered = server.answered_at
    if requests and not answered:
        raise RuntimeError(
            "TimedLLMServer saw requests but no answers: did bench.support.llm_server stop "
            "calling LLMServer._leave_flight once per chat request?"
        )
    return HostStats(
        capacity=server.capacity or 0,
        latency_s=server.latency_s,
        requests=len(requests),
        answers=len(answered),
        max_in_flight=server.max_in_flight,
        max_serving=server.max_serving,
        first_request_at=min((r.received_at for r in requests), default=None),
        last_answer_at=max(answered, default=None),
    )


def _window(stats: Sequence[HostStats]) -> float:
    firsts = [s.first_request_at for s in stats if s.first_request_at is not None]
    lasts = [s.last_answer_at for s in stats if s.last_answer_at is not None]
    if not firsts or not lasts:
        return 0.0
    return max(0.0, max(lasts) - min(firsts))


def _result(
    variant: Variant,
    servers: Sequence[TimedServer],
    *,
    spans: int,
    in_flight: int,
    completed: int,
    failed: int,
    **extra: Any,
) -> RunResult:
    stats = [host_stats(s) for s in servers]
    window = _window(stats)
    answers = sum(s.answers for s in stats)
    per_s = answers / window if window > 0 else 0.0
    ideal = sum((s.capacity or 0) / s.latency_s for s in servers)
    return RunResult(
        variant=variant,
        repeat=0,
        spans=spans,
        in_flight=in_flight,
        completed=completed,
        failed=failed,
        window_s=window,
        per_s=per_s,
        ideal_per_s=ideal,
        fraction_of_ideal=per_s / ideal if ideal > 0 else 0.0,
        max_in_flight=max((s.max_in_flight for s in stats), default=0),
        cap_ok=all(s.cap_ok for s in stats),
        hosts=stats,
        **extra,
    )


async def run_bare(
    variant: Variant,
    servers: Sequence[TimedServer],
    in_flight: Sequence[int],
    bodies: Sequence[dict[str, Any]],
) -> RunResult:
    """POST every body; `in_flight[i]` worker coroutines per server, one shared list.

    Each worker sends its next body as soon as it has its answer, so each server
    has exactly `in_flight[i]` requests in flight until the list runs out. The
    client mirrors Gloss's: one `httpx.AsyncClient` per host, its pool sized to
    the number of workers, the body sent with `json=` and the answer decoded.
    """
    for server in servers:
        server.reset()
    gc.collect()
    next_index = 0
    ok = failed = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal next_index, ok, failed
        while next_index < len(bodies):
            body = bodies[next_index]
            next_index += 1
            try:
                response = await client.post("/api/chat", json=body)
                data = response.json()
                if response.status_code == 200 and isinstance(data["message"]["content"], str):
                    ok += 1
                else:
                    failed += 1
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                failed += 1

    clients = [
        httpx.AsyncClient(
            base_url=server.url,
            headers={"User-Agent": "gloss-bench"},
            timeout=httpx.Timeout(REQUEST_TIMEOUT_S, connect=10.0),
            limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
        )
        for server, n in zip(servers, in_flight, strict=True)
    ]
    try:
        async with asyncio.TaskGroup() as group:
            for client, n in zip(clients, in_flight, strict=True):
                for _ in range(n):
                    group.create_task(worker(client))
    finally:
        for client in clients:
            await client.aclose()
    return _result(
        variant, servers, spans=len(bodies), in_flight=sum(in_flight), completed=ok, failed=failed
    )


async def run_gloss(
    variant: Variant,
    servers: Sequence[TimedServer],
    caps: Sequence[int],
    workspace: Path,
    db_path: Path,
    bodies: Sequence[dict[str, Any]],
) -> RunResult:
    """The real Engine on `workspace` with a fresh database; every span needs a gloss.

    `bodies` are what the bare client sends for the same spans: the run checks
    that the servers received exactly these from Gloss.
    """
    for server in servers:
        server.reset()
    config = bench_config([(s.url, c) for s, c in zip(servers, caps, strict=True)], db_path)
    engine = Engine(workspace, config)
    committed: list[tuple[float, GlossResult]] = []

    def listener(ref: SpanRef, result: GlossResult) -> None:
        committed.append((time.monotonic(), result))

    engine.add_listener(listener)
    await engine.start()
    try:
        gc.collect()
        scan_start = time.monotonic()
        await engine.scan()
        scan_s = time.monotonic() - scan_start
        await engine.wait_idle()
        status = await engine.status()
    finally:
        await engine.stop()
    glossed = sum(1 for _, r in committed if r.gloss is not None)
    last = max((t for t, _ in committed), default=scan_start)
    end_to_end = last - scan_start
    sent = sorted(body_key(r.body) for s in servers for r in s.requests)
    bodies_match = sent == sorted(body_key(b) for b in bodies)
    return _result(
        variant,
        servers,
        spans=len(bodies),
        in_flight=engine.worker_count(),
        completed=glossed,
        failed=len(committed) - glossed,
        scan_s=scan_s,
        end_to_end_s=end_to_end,
        end_to_end_per_s=glossed / end_to_end if end_to_end > 0 else 0.0,
        store_enriched=int(status.counts.enriched),
        bodies_match=bodies_match,
    )


# --- the benchmark -----------------------------------------------------------------


def summarize(variant: Variant, runs: list[RunResult]) -> VariantSummary:
    rates = [r.per_s for r in runs]
    return VariantSummary(
        variant=variant,
        label=LABELS[variant],
        runs=runs,
        median_per_s=statistics.median(rates),
        min_per_s=min(rates),
        max_per_s=max(rates),
        median_fraction_of_ideal=statistics.median(r.fraction_of_ideal for r in runs),
        max_in_flight=max(r.max_in_flight for r in runs),
        cap_ok=all(r.cap_ok for r in runs),
        all_completed=all(r.completed == r.spans and r.failed == 0 for r in runs),
    )


def _with_repeat(run: RunResult, repeat: int) -> RunResult:
    return replace(run, repeat=repeat)


async def run_benchmark(config: BenchConfig) -> BenchReport:
    wall = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="pipeline-throughput-"))
    runs: dict[Variant, list[RunResult]] = {v: [] for v in VARIANTS}
    try:
        workspace = tmp / "workspace"
        write_workspace(workspace, config.spans)
        probe = bench_config([("http://127.0.0.1:1", config.capacity)], tmp / "probe.db")
        spans = load_spans(workspace, probe)
        if len(spans) != config.spans:
            raise RuntimeError(f"workspace has {len(spans)} spans, wanted {config.spans}")
        bodies = [ollama_body(s, probe.tiers[0], probe.backends[0]) for s in spans]
        naive_bodies = bodies[: min(config.naive_spans, len(bodies))]
        for repeat in range(config.repeats):
            forward = repeat % 2 == 0
            single = SINGLE_HOST if forward else tuple(reversed(SINGLE_HOST))
            with ServerProcess(config.capacity, config.latency_s) as server:
                for variant in single:
                    db = tmp / f"{variant}-{repeat}.db"
                    if variant == "bare":
                        run = await run_bare(variant, [server], [config.capacity], bodies)
                    elif variant == "naive":
                        run = await run_bare(variant, [server], [1], naive_bodies)
                    else:
                        run = await run_gloss(
                            variant, [server], [config.capacity], workspace, db, bodies
                        )
                    runs[variant].append(_with_repeat(run, repeat))
            two = TWO_HOSTS if forward else tuple(reversed(TWO_HOSTS))
            pair = [ServerProcess(h.capacity, h.latency_s).start() for h in config.hosts]
            caps = [h.capacity for h in config.hosts]
            try:
                for variant in two:
                    db = tmp / f"{variant}-{repeat}.db"
                    if variant == "bare_2hosts":
                        run = await run_bare(variant, pair, caps, bodies)
                    else:
                        run = await run_gloss(variant, pair, caps, workspace, db, bodies)
                    runs[variant].append(_with_repeat(run, repeat))
            finally:
                for server in pair:
                    server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summaries = {v: summarize(v, runs[v]) for v in VARIANTS}
    med = {v: summaries[v].median_per_s for v in VARIANTS}
    ratio = med["gloss"] / med["bare"] if med["bare"] > 0 else 0.0
    paired = [
        g.per_s / b.per_s if b.per_s > 0 else 0.0
        for g, b in zip(runs["gloss"], runs["bare"], strict=True)
    ]
    cap_ok = all(s.cap_ok for s in summaries.values())
    all_completed = all(s.all_completed for s in summaries.values())
    notes: list[str] = []
    for s in summaries.values():
        for r in s.runs:
            if not r.cap_ok:
                notes.append(
                    f"CAP EXCEEDED: {s.variant} repeat {r.repeat}: "
                    + ", ".join(f"{h.max_in_flight} in flight > cap {h.capacity}" for h in r.hosts)
                )
            if r.completed != r.spans or r.failed:
                notes.append(
                    f"INCOMPLETE: {s.variant} repeat {r.repeat}: {r.completed} of {r.spans} "
                    f"done, {r.failed} failed"
                )
            if r.bodies_match is False:
                notes.append(
                    f"{s.variant} repeat {r.repeat}: Gloss sent bodies other than the bare "
                    "client's (the comparison is not like for like)"
                )
    bare_fraction = summaries["bare"].median_fraction_of_ideal
    if bare_fraction > LENIENT_FRACTION:
        notes.append(
            f"the bare client reaches {bare_fraction:.3f} of ideal here, above the ~0.86-0.89 "
            "DESIGN.md quotes for 2 cores: per-request overhead is small next to L, so the "
            "ratio is lenient at this point; a shorter --latency-ms (about 20 with C=4) is "
            "the regime that figure describes"
        )
    idle_hosts = [i for i, a in enumerate(host_split(summaries["gloss_2hosts"])) if a == 0]
    if idle_hosts:
        notes.append(
            "Gloss left host(s) "
            + ", ".join(f"host{i}" for i in idle_hosts)
            + " idle with two hosts in one tier: it used them as failover only"
        )
    return BenchReport(
        machine=machine_facts(httpx=httpx.__version__),
        config={
            "spans": config.spans,
            "capacity": config.capacity,
            "latency_s": config.latency_s,
            "repeats": config.repeats,
            "naive_spans": min(config.naive_spans, config.spans),
            "hosts": [asdict(h) for h in config.hosts],
        },
        variants={v: summaries[v] for v in VARIANTS},
        ratio=ratio,
        paired_ratios=paired,
        ratio_2hosts=(med["gloss_2hosts"] / med["bare_2hosts"] if med["bare_2hosts"] > 0 else 0.0),
        speedup_vs_naive=med["gloss"] / med["naive"] if med["naive"] > 0 else 0.0,
        budget_ratio=BUDGET_RATIO,
        cap_ok=cap_ok,
        all_completed=all_completed,
        passed=ratio >= BUDGET_RATIO and cap_ok and all_completed,
        wall_seconds=time.perf_counter() - wall,
        notes=notes,
    )


# --- reporting -------------------------------------------------------------------


def host_split(summary: VariantSummary) -> list[float]:
    """Median answers per host over the runs, in configured host order."""
    hosts = len(summary.runs[0].hosts)
    return [statistics.median(r.hosts[i].answers for r in summary.runs) for i in range(hosts)]


def format_report(report: BenchReport) -> str:
    m, c = report.machine, report.config
    hosts = " and ".join(
        f"capacity {h['capacity']} at {h['latency_s'] * 1000:g} ms" for h in c["hosts"]
    )
    lines = [
        "Pipeline throughput: Gloss vs a bare client holding C requests in flight "
        f"({m['cpus']} CPUs, Python {m['python']}, httpx {m['httpx']})",
        f"server: bench.support.llm_server.LLMServer capacity C={c['capacity']}, latency "
        f"L={c['latency_s'] * 1000:g} ms (ideal C/L = {c['capacity'] / c['latency_s']:g}/s); "
        f"{c['spans']} spans ({c['naive_spans']} for naive); two hosts: {hosts}; "
        f"{c['repeats']} repeats, order alternating",
        "rate = answers / (first request received -> last answer sent), at the server",
        "",
    ]
    header = (
        f"{'variant':<31} {'spans':>5} {'in flight':>9} {'median/s':>9} {'min/s':>7} "
        f"{'max/s':>7} {'ideal/s':>7} {'of ideal':>8} {'peak in flight':>14} {'per host':>9}"
    )
    lines += [header, "-" * len(header)]
    for s in report.variants.values():
        r0 = s.runs[0]
        caps = "+".join(str(h.capacity) for h in r0.hosts)
        peaks = "/".join(
            str(max(r.hosts[i].max_in_flight for r in s.runs)) for i in range(len(r0.hosts))
        )
        peak = f"{peaks} (cap {caps})" + ("" if s.cap_ok else " !!")
        split = " + ".join(f"{a:g}" for a in host_split(s)) if len(r0.hosts) > 1 else ""
        lines.append(
            f"{s.label:<31} {r0.spans:>5} {r0.in_flight:>9} {s.median_per_s:>9.2f} "
            f"{s.min_per_s:>7.2f} {s.max_per_s:>7.2f} {r0.ideal_per_s:>7.2f} "
            f"{s.median_fraction_of_ideal:>8.3f} {peak:>14} {split:>9}"
        )
    g = report.variants["gloss"]
    scans = [r.scan_s for r in g.runs if r.scan_s is not None]
    e2e = [r.end_to_end_per_s for r in g.runs if r.end_to_end_per_s is not None]
    lines += [""]
    if scans and e2e:
        lines.append(
            f"Gloss end to end (information): scan() median {statistics.median(scans):.2f} s; "
            f"scan start -> last gloss committed: median {statistics.median(e2e):.2f} glosses/s"
        )
    lines += [
        "paired gloss/bare per repeat (same server): "
        + ", ".join(f"{x:.3f}" for x in report.paired_ratios),
        f"two hosts: gloss/bare {report.ratio_2hosts:.3f} (information; median answers per host "
        "in the last column)",
        f"gloss/naive speed-up: {report.speedup_vs_naive:.1f}x",
        f"cap (max_in_flight <= capacity, every run, every host): "
        f"{'held' if report.cap_ok else 'EXCEEDED'}",
        f"every span glossed / answered: {'yes' if report.all_completed else 'NO'}",
        f"ratio gloss / bare (medians): {report.ratio:.3f}   budget >= {report.budget_ratio:g} "
        f"and cap held: {'PASS' if report.passed else 'FAIL'}",
    ]
    return finish_report(lines, report.notes, report.wall_seconds)


OPTIONS: Final = (
    Option("--spans", "spans", "default %(default)s", positive_int),
    Option(
        "--capacity",
        "capacity",
        "C, requests the server serves at once (default %(default)s)",
        positive_int,
    ),
    Option(
        "--latency-ms",
        "latency_s",
        "L, each request's service time (default %(default)g)",
        positive_float,
        scale=1000,
    ),
    Option("--repeats", "repeats", "default %(default)s", positive_int),
    Option(
        "--naive-spans",
        "naive_spans",
        "spans for the sequential baseline (default %(default)s)",
        positive_int,
    ),
)


DESCRIPTION: Final = (
    "Gloss's pipeline vs a bare client holding C requests in flight (DESIGN.md budgets)."
)


def main(argv: Sequence[str] | None = None) -> int:
    cli = BenchArgs.with_options(
        "python -m bench.pipeline_throughput", DESCRIPTION, BenchConfig(), OPTIONS
    )
    return cli.run(argv, run_benchmark, format_report, report_json)


if __name__ == "__main__":
    sys.exit(main())
