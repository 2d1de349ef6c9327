"""Freshness: how soon a saved edit shows its new gloss while a large backlog waits.

Run:  .venv/bin/python -m bench.freshness [--backlogs 300,3000,30000] [--capacity C]
      [--latency-ms L] [--edits E] [--interval-ms I] [--fifo-cap-s S]
      [--spans-per-file F] [--json PATH]

DESIGN.md budget: with a backlog of 3,000 spans, a span edited and saved shows its
new gloss within 3 backend latencies + 1 s, whatever the backlog's size.

For each backlog size N, a workspace of N small, distinct functions (the
pipeline benchmark's `write_workspace`, 25 per file unless `--spans-per-file`)
is scanned once into a store with glossing off (`start(glossing=False)`, the
preparation: its time is reported but measures nothing here). Each variant
then gets its own copy of
that store, a fresh `bench.support.llm_server.LLMServer(capacity=C, latency_s=L)` on
127.0.0.1 and a real `Engine` with one Ollama backend at it (`max_concurrency =
C`); `scan()` finds every file unchanged and queues the N spans, and the
workers start on them. The edits begin `--warmup-ms` after the scan returned,
so the backlog exists and the backend is busy when the first save arrives.

An edit is a save as the LSP server delivers it: `engine.document_changed(rel,
text)` with the file's new text (the file on disk is left as it is; no watcher
runs here). Edits alternate between a changed body (one function in the middle
of a file) and a newly added function (appended to a file), each in a different
file of the backlog's end, so their spans have not been glossed yet. Saves
come every `--interval-ms`, whatever the earlier edits' state (a user does not
wait either). Save -> gloss is from just before `document_changed` to the
result listener's call for the edited text's content hash (`add_listener`:
after the gloss is committed, i.e. what a hover would show). The recorded
server requests split it: save -> the request arriving at the server, and the
rest (service time L plus the writer's commit). Each save's line also shows
how many spans the save queued and how many were queued ahead of the edited
one: a save that promoted more than its changed spans (an engine before
e5966ce queued every unglossed span of the saved file) shows here, and
`--spans-per-file` makes the file's size visible.

Variants:

- `gloss`: the engine as it is (edits go in the EDITED class, ahead of the
  backlog).
- `fifo`: the baseline: the same engine with `FifoScheduler` installed as
  `engine.scheduler` before `start()`: every priority goes into one
  arrival-ordered class, so a save waits behind the whole backlog. Its wait is
  capped (`--fifo-cap-s`); an edit not glossed by then is reported with its
  queue position at save time and a projection position * L / C, labelled
  "projected". Where FIFO is measured (small N), both are shown, so the
  projection can be checked against a measurement.

Per N: the median and max save -> gloss for Gloss, the budget 3 * L + 1 s,
PASS/FAIL (on the median; every edit must have got its gloss), FIFO's median
(measured, projected or mixed) and FIFO / Gloss; overall, flatness = Gloss's
median at the largest N / at the smallest, and the servers' peak in-flight
(must never exceed C). A benchmark reports: it prints PASS/FAIL and exits 0
either way. Every wait is bounded (`--timeout-s` per Gloss edit, the FIFO cap).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from bench.support.cli_args import BenchArgs, Option, int_list, positive_float, positive_int
from bench.support.llm_server import LLMServer
from bench.support.report import finish_report, loaded_machine_facts, machine_summary
from bench.support.report import report_json as report_json  # the bench's JSON, re-exported
from bench.support.workspace import bench_config, source_commit, write_workspace
from enrich_core.config import Config
from enrich_core.records.result import GlossResult
from enrich_core.run.engine import Engine
from enrich_core.run.scheduler import Priority, Scheduler, SpanRef
from enrich_core.source.spans import extract_spans

Variant = Literal["gloss", "fifo"]
VARIANTS: Final[tuple[Variant, ...]] = ("gloss", "fifo")
EditKind = Literal["body", "new"]
BUDGET_LATENCIES: Final = 3
BUDGET_EXTRA_S: Final = 1.0
SPANS_PER_FILE: Final = 25


@dataclass(frozen=True, slots=True)
class BenchConfig:
    backlogs: tuple[int, ...] = (300, 3_000, 30_000)
    capacity: int = 4
    latency_s: float = 0.1
    edits: int = 5
    # At C=4, L=100 ms the backend drains 40 spans/s: a 300-span backlog lasts
    # ~7.5 s, so five saves a second apart all meet a backlog of 140 or more.
    interval_s: float = 1.0
    warmup_s: float = 0.5
    fifo_cap_s: float = 15.0
    timeout_s: float = 60.0  # a Gloss edit not glossed by then counts as not glossed
    spans_per_file: int = SPANS_PER_FILE

    @property
    def budget_s(self) -> float:
        return BUDGET_LATENCIES * self.latency_s + BUDGET_EXTRA_S


class FifoScheduler(Scheduler):
    """The baseline: every priority in one arrival-ordered class (no edit goes first)."""

    def submit(self, ref: SpanRef, priority: Priority) -> bool:
        return super().submit(ref, Priority.BACKLOG)


@dataclass(frozen=True, slots=True)
class Edit:
    """One save: the file's whole new text and the span whose gloss is awaited."""

    index: int
    kind: EditKind
    path: str
    qualname: str
    content_hash: str
    text: str


@dataclass(frozen=True, slots=True)
class EditResult:
    index: int
    kind: EditKind
    path: str
    qualname: str
    backlog_at_save: int  # spans queued just before the save
    queued_by_save: int  # what document_changed queued (the file's unglossed spans)
    ahead_at_save: int | None  # queue position right after the save (None: not queued)
    save_to_request_s: float | None  # save -> its chat request reached the server
    save_to_gloss_s: float | None  # save -> listener call; None if not within the limit
    glossed: bool  # a gloss (not a failure) was committed within the limit
    capped: bool  # FIFO: not glossed within --fifo-cap-s
    projected_s: float | None  # ahead_at_save * L / C

    @property
    def estimate_s(self) -> float | None:
        """Measured when it was, else the projection."""
        return self.save_to_gloss_s if self.save_to_gloss_s is not None else self.projected_s


@dataclass(frozen=True, slots=True)
class VariantRun:
    variant: Variant
    backlog: int
    scan_s: float  # scan() of the prepared store: every file unchanged, N spans queued
    scan_queued: int
    edits: list[EditResult]
    requests: int  # chat requests the server received during the run
    max_in_flight: int
    capacity: int

    @property
    def cap_ok(self) -> bool:
        return self.max_in_flight <= self.capacity

    @property
    def all_glossed(self) -> bool:
        return all(e.glossed for e in self.edits)


@dataclass(frozen=True, slots=True)
class BacklogSummary:
    backlog: int
    prepare_scan_s: float  # the full scan that built the store (read, parse, write N spans)
    gloss: VariantRun
    fifo: VariantRun
    gloss_median_s: float | None
    gloss_max_s: float | None
    budget_s: float
    passed: bool
    fifo_median_s: float | None
    fifo_basis: str  # "measured", "projected" or "mixed"
    fifo_over_gloss: float | None
    min_backlog_at_save: int


@dataclass(frozen=True, slots=True)
class BenchReport:
    machine: dict[str, Any]
    config: dict[str, Any]
    backlogs: list[BacklogSummary]
    flatness: float | None  # Gloss median at the largest N / at the smallest
    cap_ok: bool
    all_glossed: bool
    passed: bool
    wall_seconds: float
    notes: list[str] = field(default_factory=list)


# --- the workspace and the edits --------------------------------------------------


def plan_edits(root: Path, paths: Sequence[str], count: int) -> list[Edit]:
    """`count` saves in the backlog's last files, alternating changed body / new function.

    Edit k goes to the k-th file from the end (wrapping), so the spans it touches
    are still waiting; a file edited twice gets its second edit on top of the first.
    """
    texts: dict[str, str] = {}
    edits: list[Edit] = []
    for k in range(count):
        rel = paths[len(paths) - 1 - k % len(paths)]
        text = texts.get(rel) or (root / rel).read_text()
        spans = extract_spans(rel, text)
        kind: EditKind = "body" if k % 2 == 0 else "new"
        if kind == "body":
            originals = [s for s in spans if s.qualname.startswith("scaled_total_")]
            target = originals[(len(originals) // 2 + k) % len(originals)]
            number = int(target.qualname.rsplit("_", 1)[1])
            line = f"    total = {number}\n"
            if line not in text:
                raise RuntimeError(f"bench workspace changed shape: no {line!r} in {rel}")
            text = text.replace(line, f"    total = {number} + {k + 1}  # edited\n", 1)
            qualname = target.qualname
        else:
            qualname = f"edited_total_{k:03d}"
            text += (
                f"\n\ndef {qualname}(values: list[int]) -> int:\n"
                f'    """Added by edit {k}: the sum of the values above {k}."""\n'
                f"    return sum(v for v in values if v > {k})\n"
            )
        texts[rel] = text
        new = [s for s in extract_spans(rel, text) if s.qualname == qualname]
        if len(new) != 1:
            raise RuntimeError(f"edit {k}: expected one span {qualname} in {rel}, got {len(new)}")
        edits.append(Edit(k, kind, rel, qualname, new[0].content_hash, text))
    return edits


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy of a closed SQLite store (WAL included), via the backup API."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


async def prepare_store(root: Path, config: Config) -> tuple[float, int]:
    """Scan the workspace into a fresh store with glossing off: (seconds, spans queued)."""
    engine = Engine(root, config)
    await engine.start(glossing=False)
    try:
        start = time.monotonic()
        report = await engine.scan()
        return time.monotonic() - start, report.queued
    finally:
        await engine.stop()


# --- one variant -------------------------------------------------------------------


async def run_variant(
    variant: Variant,
    config: BenchConfig,
    workspace: Path,
    store: Path,
    edits: Sequence[Edit],
    backlog: int,
) -> VariantRun:
    """One engine on a copy of the prepared store; the saves; the waits (bounded)."""
    with LLMServer(capacity=config.capacity, latency_s=config.latency_s) as server:
        engine = Engine(workspace, bench_config([(server.url, config.capacity)], store))
        if variant == "fifo":
            engine.scheduler = FifoScheduler()
        loop = asyncio.get_running_loop()
        waiting: dict[str, asyncio.Future[tuple[float, bool]]] = {
            e.content_hash: loop.create_future() for e in edits
        }

        def listener(ref: SpanRef, result: GlossResult) -> None:
            future = waiting.get(ref.content_hash)
            if future is not None and not future.done():
                future.set_result((time.monotonic(), result.gloss is not None))

        engine.add_listener(listener)
        await engine.start()
        try:
            scan_start = time.monotonic()
            report = await engine.scan()
            scan_s = time.monotonic() - scan_start
            first_save = time.monotonic() + config.warmup_s
            limit_s = config.fifo_cap_s if variant == "fifo" else config.timeout_s

            async def save(edit: Edit) -> EditResult:
                await asyncio.sleep(
                    max(0.0, first_save + edit.index * config.interval_s - time.monotonic())
                )
                backlog_now = engine.scheduler.queued
                saved_at = time.monotonic()
                queued = await engine.document_changed(edit.path, edit.text)
                ahead = engine.scheduler.position(edit.content_hash)
                future = waiting[edit.content_hash]
                remaining = saved_at + limit_s - time.monotonic()
                try:
                    done_at, ok = await asyncio.wait_for(future, max(0.0, remaining))
                except TimeoutError:
                    done_at, ok = None, False
                arrived = [
                    r.received_at
                    for r in server.requests
                    if r.symbol == edit.qualname and r.received_at >= saved_at
                ]
                projected = (
                    ahead * config.latency_s / config.capacity if ahead is not None else None
                )
                return EditResult(
                    index=edit.index,
                    kind=edit.kind,
                    path=edit.path,
                    qualname=edit.qualname,
                    backlog_at_save=backlog_now,
                    queued_by_save=queued,
                    ahead_at_save=ahead,
                    save_to_request_s=min(arrived) - saved_at if arrived else None,
                    save_to_gloss_s=done_at - saved_at if done_at is not None else None,
                    glossed=ok,
                    capped=variant == "fifo" and done_at is None,
                    projected_s=projected,
                )

            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(save(e)) for e in edits]
            results = [t.result() for t in tasks]
        finally:
            await engine.stop()
            for future in waiting.values():
                future.cancel()
        return VariantRun(
            variant=variant,
            backlog=backlog,
            scan_s=scan_s,
            scan_queued=report.queued,
            edits=results,
            requests=len(server.requests),
            max_in_flight=server.max_in_flight,
            capacity=config.capacity,
        )


# --- the benchmark -----------------------------------------------------------------


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def summarize(
    config: BenchConfig, backlog: int, prepare_s: float, gloss: VariantRun, fifo: VariantRun
) -> BacklogSummary:
    times = [e.save_to_gloss_s for e in gloss.edits]
    gloss_median = _median(times) if gloss.all_glossed else None
    gloss_max = max((t for t in times if t is not None), default=None)
    fifo_median = _median([e.estimate_s for e in fifo.edits])
    capped = sum(e.capped for e in fifo.edits)
    basis = "measured" if capped == 0 else "projected" if capped == len(fifo.edits) else "mixed"
    return BacklogSummary(
        backlog=backlog,
        prepare_scan_s=prepare_s,
        gloss=gloss,
        fifo=fifo,
        gloss_median_s=gloss_median,
        gloss_max_s=gloss_max,
        budget_s=config.budget_s,
        passed=gloss_median is not None and gloss_median <= config.budget_s and gloss.cap_ok,
        fifo_median_s=fifo_median,
        fifo_basis=basis,
        fifo_over_gloss=(
            fifo_median / gloss_median if fifo_median is not None and gloss_median else None
        ),
        min_backlog_at_save=min(e.backlog_at_save for e in gloss.edits + fifo.edits),
    )


async def run_benchmark(config: BenchConfig) -> BenchReport:
    wall = time.perf_counter()
    load_start, commit = os.getloadavg()[0], source_commit()
    summaries: list[BacklogSummary] = []
    tmp = Path(tempfile.mkdtemp(prefix="freshness-"))
    try:
        for backlog in config.backlogs:
            root = tmp / f"n{backlog}"
            workspace = root / "workspace"
            paths = await asyncio.to_thread(
                write_workspace, workspace, backlog, config.spans_per_file
            )
            edits = await asyncio.to_thread(plan_edits, workspace, paths, config.edits)
            prepared = root / "prepared.db"
            # The backend URL is never used: glossing is off while preparing.
            prepare_s, queued = await prepare_store(
                workspace, bench_config([("http://127.0.0.1:1", config.capacity)], prepared)
            )
            if queued != backlog:
                raise RuntimeError(f"prepared store queues {queued} spans, wanted {backlog}")
            runs: dict[Variant, VariantRun] = {}
            for variant in VARIANTS:
                store = root / f"{variant}.db"
                await asyncio.to_thread(copy_store, prepared, store)
                runs[variant] = await run_variant(variant, config, workspace, store, edits, backlog)
            summaries.append(summarize(config, backlog, prepare_s, runs["gloss"], runs["fifo"]))
            await asyncio.to_thread(shutil.rmtree, root, True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return build_report(config, summaries, time.perf_counter() - wall, load_start, commit)


def build_report(
    config: BenchConfig,
    summaries: list[BacklogSummary],
    wall_s: float,
    load_start: float = 0.0,
    commit: str | None = None,
) -> BenchReport:
    runs = [r for s in summaries for r in (s.gloss, s.fifo)]
    cap_ok = all(r.cap_ok for r in runs)
    all_glossed = all(s.gloss.all_glossed for s in summaries)
    first, last = summaries[0], summaries[-1]
    flatness = (
        last.gloss_median_s / first.gloss_median_s
        if last.gloss_median_s is not None and first.gloss_median_s
        else None
    )
    notes: list[str] = []
    for r in runs:
        if not r.cap_ok:
            notes.append(
                f"CAP EXCEEDED: {r.variant} at N={r.backlog}: "
                f"{r.max_in_flight} in flight > cap {r.capacity}"
            )
        if r.scan_queued != r.backlog:
            notes.append(f"{r.variant} at N={r.backlog}: the scan queued {r.scan_queued} spans")
    for s in summaries:
        for e in s.gloss.edits:
            if not e.glossed:
                notes.append(
                    f"NOT GLOSSED: N={s.backlog} edit {e.index} ({e.kind}, {e.qualname}) "
                    f"within {config.timeout_s:g} s"
                )
            elif e.save_to_gloss_s is not None and e.save_to_gloss_s > config.budget_s:
                notes.append(
                    f"N={s.backlog} edit {e.index} ({e.kind}) took {e.save_to_gloss_s:.2f} s, "
                    f"over the {config.budget_s:.2f} s budget ({e.ahead_at_save} queued ahead "
                    f"of it at save, {e.queued_by_save} queued by the save)"
                )
        if s.min_backlog_at_save < s.backlog // 4:
            notes.append(
                f"N={s.backlog}: the backlog was down to {s.min_backlog_at_save} at a save; "
                "fewer edits or a shorter --interval-ms keep it large"
            )
    return BenchReport(
        machine=loaded_machine_facts(load_start, commit),
        config={
            "backlogs": list(config.backlogs),
            "capacity": config.capacity,
            "latency_s": config.latency_s,
            "edits": config.edits,
            "interval_s": config.interval_s,
            "warmup_s": config.warmup_s,
            "fifo_cap_s": config.fifo_cap_s,
            "timeout_s": config.timeout_s,
            "spans_per_file": config.spans_per_file,
            "budget_s": config.budget_s,
        },
        backlogs=summaries,
        flatness=flatness,
        cap_ok=cap_ok,
        all_glossed=all_glossed,
        passed=all(s.passed for s in summaries) and cap_ok and all_glossed,
        wall_seconds=wall_s,
        notes=notes,
    )


# --- reporting -------------------------------------------------------------------


def _s(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_report(report: BenchReport) -> str:
    c = report.config
    lines = [
        "Freshness: save -> new gloss committed, with a backlog waiting "
        f"({machine_summary(report.machine)})",
        f"server: bench.support.llm_server.LLMServer capacity C={c['capacity']}, latency "
        f"L={c['latency_s'] * 1000:g} ms; {c['edits']} saves per backlog, one every "
        f"{c['interval_s'] * 1000:g} ms from {c['warmup_s'] * 1000:g} ms after scan() queued "
        "the backlog (changed body / new function alternating, in the backlog's last files, "
        f"{c['spans_per_file']} functions per file)",
        f"budget: 3 x L + 1 s = {c['budget_s']:.2f} s (judged on the median); FIFO baseline "
        f"capped at {c['fifo_cap_s']:g} s per save, then projected as position x L / C",
        "",
    ]
    header = (
        f"{'backlog N':>9} {'Gloss median':>12} {'max':>6} {'budget':>6} {'verdict':>7} "
        f"{'FIFO median':>11} {'FIFO basis':>10} {'FIFO/Gloss':>10} {'backlog at saves':>16} "
        f"{'peak in flight (cap)':>20}"
    )
    lines += [header, "-" * len(header)]
    for s in report.backlogs:
        saves = [e.backlog_at_save for e in s.gloss.edits]
        peaks = f"{s.gloss.max_in_flight}/{s.fifo.max_in_flight} ({c['capacity']})"
        if not (s.gloss.cap_ok and s.fifo.cap_ok):
            peaks += " !!"
        ratio = "-" if s.fifo_over_gloss is None else f"{s.fifo_over_gloss:.1f}x"
        lines.append(
            f"{s.backlog:>9,} {_s(s.gloss_median_s):>10} s {_s(s.gloss_max_s):>6} "
            f"{s.budget_s:>6.2f} {'PASS' if s.passed else 'FAIL':>7} "
            f"{_s(s.fifo_median_s, 1):>9} s {s.fifo_basis:>10} {ratio:>10} "
            f"{f'{max(saves):,}..{min(saves):,}':>16} {peaks:>20}"
        )
    lines += [
        "",
        "per save (Gloss | FIFO): kind, queued ahead at save, queued by the save, "
        "save -> request at server, save -> gloss committed",
    ]
    for s in report.backlogs:
        for g, f in zip(s.gloss.edits, s.fifo.edits, strict=True):
            fifo = (
                f"{_s(f.save_to_gloss_s)} s measured (projection {_s(f.projected_s)} s)"
                if not f.capped
                else f"> {report.config['fifo_cap_s']:g} s, projected {_s(f.projected_s, 1)} s"
            )
            lines.append(
                f"  N={s.backlog:<6,} #{g.index} {g.kind:<4} | ahead {g.ahead_at_save!s:>3}, "
                f"queued {g.queued_by_save:>2}, request {_s(g.save_to_request_s)} s, "
                f"gloss {_s(g.save_to_gloss_s)} s | ahead {f.ahead_at_save!s:>6}: {fifo}"
            )
    lines += [
        "",
        "scans (information): "
        + "; ".join(
            f"N={s.backlog:,}: preparing {s.prepare_scan_s:.2f} s, rescan+queue "
            f"{s.gloss.scan_s:.2f}/{s.fifo.scan_s:.2f} s"
            for s in report.backlogs
        ),
        f"flatness (Gloss median at N={report.backlogs[-1].backlog:,} / at "
        f"N={report.backlogs[0].backlog:,}): {_s(report.flatness)}",
        f"cap (server max_in_flight <= C, every run): {'held' if report.cap_ok else 'EXCEEDED'}",
        f"every edited span glossed (Gloss): {'yes' if report.all_glossed else 'NO'}",
        f"freshness budget at every N and cap held: {'PASS' if report.passed else 'FAIL'}",
    ]
    return finish_report(lines, report.notes, report.wall_seconds)


backlog_list = int_list(1, "300,3000")


OPTIONS: Final = (
    Option(
        "--backlogs",
        "backlogs",
        "backlog sizes N, comma-separated (default 300,3000,30000)",
        backlog_list,
    ),
    Option("--capacity", "capacity", "C (default %(default)s)", positive_int),
    Option("--latency-ms", "latency_s", "L (default %(default)g)", positive_float, scale=1000),
    Option("--edits", "edits", "saves per N (default %(default)s)", positive_int),
    Option(
        "--interval-ms",
        "interval_s",
        "between saves (default %(default)g)",
        positive_float,
        scale=1000,
    ),
    Option(
        "--warmup-ms",
        "warmup_s",
        "from the scan's end to the first save (default %(default)g)",
        positive_float,
        scale=1000,
    ),
    Option(
        "--fifo-cap-s",
        "fifo_cap_s",
        "longest wait for a FIFO save before projecting (default %(default)g)",
        positive_float,
    ),
    Option(
        "--timeout-s",
        "timeout_s",
        "longest wait for a Gloss save (default %(default)g)",
        positive_float,
    ),
    Option(
        "--spans-per-file",
        "spans_per_file",
        "functions per generated file (default %(default)s)",
        positive_int,
    ),
)


DESCRIPTION: Final = (
    "Save -> new gloss while a backlog waits, Gloss vs a FIFO queue (DESIGN.md budgets)."
)


def main(argv: Sequence[str] | None = None) -> int:
    cli = BenchArgs.with_options("python -m bench.freshness", DESCRIPTION, BenchConfig(), OPTIONS)
    return cli.run(argv, run_benchmark, format_report, report_json)


if __name__ == "__main__":
    sys.exit(main())
