"""Rescan: the scan of an unchanged large workspace, beside a full re-read of it.

Run:  .venv/bin/python -m bench.rescan [--source DIR | --cache-dir DIR] [--repeats R]
      [--no-gloss-check] [--json PATH]

DESIGN.md budget: re-index of an unchanged workspace: zero LLM calls. Beside
that, how long the rescan takes next to reading the whole workspace again.

The tree is Django's source: `pip download django --no-deps` into a cache
directory (default `~/.cache/gloss-bench`, or `$XDG_CACHE_HOME/gloss-bench`;
outside the repository), the wheel unpacked once beside it; a wheel already in
the cache is used as it is, so later runs read the same tree. `--source DIR`
uses any tree instead. The tree is only read: the stores live in a temp dir.

Every scan is `Engine.scan()` of a fresh `Engine` started with
`start(glossing=False)` (no backends, no workers), and only the `scan()` call
is timed:

- `first scan`: a fresh store: every file walked, read, parsed and written.
- `rescan`: the same store again, the tree unchanged: each file is stat'ed by
  the walk, matched against the stored size and mtime, and not read (the
  ScanReport shows parsed == 0); then the spans without a gloss are queued.
- baseline `full re-index`: `scan()` on a fresh store every time, i.e. what a
  rescan would cost without the stored stamps (read, parse, write every span).
  The like-for-like baseline: the same code path with the incremental part off.
- baseline `read + parse`: every file the walk yields read and parsed
  (`Indexer.parse_file`) in one thread, nothing written: the least any
  re-read must cost. A second, stricter baseline.

Rescans and both baselines alternate within each repeat. Medians are reported
(min and max beside them); ratio = baseline median / rescan median.

Zero LLM calls (unless `--no-gloss-check`): a `bench.support.llm_server.LLMServer`
on 127.0.0.1 with no latency, an Engine with glossing glosses every span of the
rescan store once (information: how long); then a fresh Engine with glossing
on, against the same server with its records cleared, scans the unchanged
tree: the ScanReport must show parsed == 0 and queued == 0, and the server
must receive no chat request by the time the engine is idle and stopped.
Spans whose gloss failed (the test server's answers can fail the quality gate)
are not glossed: the rescan leaves them to their retry backoff, counted in the
report, and they are retried later by design. The rescans are timed again on
that fully glossed store (the steady state of a workspace that has been
indexed).

RSS is read from /proc/self/status (the bench process, the engine included).
A benchmark reports: it prints its figures and exits 0.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.support.cli_args import BenchArgs, Option, positive_float, positive_int, run_bench
from bench.support.llm_server import LLMServer
from bench.support.report import finish_report, loaded_machine_facts, machine_summary
from bench.support.workspace import bench_config, source_commit
from enrich_core.config import Config
from enrich_core.run.engine import Engine, ScanReport
from enrich_core.source.discovery import SourceFile
from enrich_core.source.indexer import Indexer
from enrich_core.source.parsed_file import ParsedFile

DJANGO_SPEC: Final = "django"
PIP_TIMEOUT_S: Final = 300.0
GLOSS_CAPACITY: Final = 8
UNUSED_URL: Final = "http://127.0.0.1:1"  # glossing is off: no backend is ever contacted


@dataclass(frozen=True, slots=True)
class BenchConfig:
    source: Path | None = None  # a tree to scan; None: Django from the cache
    cache_dir: Path | None = None  # None: default_cache_dir()
    django_spec: str = DJANGO_SPEC
    repeats: int = 5
    gloss_check: bool = True
    gloss_timeout_s: float = 900.0


@dataclass(frozen=True, slots=True)
class Timed:
    seconds: float
    report: ScanReport | None  # None for read + parse, which is no scan


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    runs: list[Timed]

    @property
    def median_s(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def min_s(self) -> float:
        return min(r.seconds for r in self.runs)

    @property
    def max_s(self) -> float:
        return max(r.seconds for r in self.runs)


@dataclass(frozen=True, slots=True)
class GlossCheck:
    spans_glossed: int  # the store's count after glossing everything once
    failed: int
    gloss_s: float  # information: scan() start -> idle, glossing the whole tree
    gloss_requests: int  # chat requests that took
    rescan: ScanReport  # the fresh engine's scan of the unchanged tree, glossing on
    rescan_requests: int  # chat requests the server saw from that engine: must be 0
    rescan_waiting_to_retry: int  # failed spans the rescan left to their retry backoff
    max_in_flight: int
    failure_reasons: list[tuple[str, int]]  # why spans failed in the gloss check

    @property
    def zero_calls(self) -> bool:
        return self.rescan_requests == 0 and self.rescan.queued == 0 and self.rescan.parsed == 0


@dataclass(frozen=True, slots=True)
class BenchReport:
    machine: dict[str, Any]
    config: dict[str, Any]
    tree: str  # what was scanned (the wheel's name, or the --source path)
    files: int
    spans: int  # spans in the store
    distinct_spans: int  # distinct texts queued by the first scan
    first_scan: Timed
    rescans: Series  # unchanged tree, store without glosses
    full_reindex: Series  # baseline: fresh store each time
    read_parse: Series  # baseline: read and parse every file, no store
    rescans_glossed: Series | None  # unchanged tree, every span glossed
    gloss_check: GlossCheck | None
    ratio_full_reindex: float  # full re-index median / rescan median
    ratio_read_parse: float  # read + parse median / rescan median
    rescans_parsed_zero: bool
    rss_mb: float | None  # after the timed scans
    peak_rss_mb: float | None
    wall_seconds: float
    notes: list[str] = field(default_factory=list)


# --- the tree ------------------------------------------------------------------------


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gloss-bench"


def django_tree(cache_dir: Path, spec: str = DJANGO_SPEC) -> tuple[Path, str]:
    """Django's wheel unpacked under `cache_dir` (downloaded once): (root, wheel name)."""
    wheels = cache_dir / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    found = sorted(wheels.glob("[Dd]jango-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", spec, "--no-deps",
             "--only-binary=:all:", "--disable-pip-version-check", "-q", "-d", str(wheels)],
            check=True,
            timeout=PIP_TIMEOUT_S,
        )  # fmt: skip
        found = sorted(wheels.glob("[Dd]jango-*.whl"))
        if not found:
            raise RuntimeError(f"pip download {spec} left no Django wheel in {wheels}")
    wheel = found[-1]
    root = cache_dir / "trees" / wheel.stem
    marker = root.with_name(root.name + ".unpacked")
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(root)
        marker.touch()
    return root, wheel.name


def remove_store(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def rss_mb() -> tuple[float | None, float | None]:
    """(current, peak) resident set size of this process, from /proc; None elsewhere."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None, None
    values: dict[str, float] = {}
    for line in status.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS"), values.get("VmHWM")


# --- the timed runs ---------------------------------------------------------------


async def timed_scan(root: Path, config: Config) -> tuple[Timed, int]:
    """One fresh Engine with glossing off: (its timed scan, spans in the store)."""
    engine = Engine(root, config)
    await engine.start(glossing=False)
    try:
        start = time.perf_counter()
        report = await engine.scan()
        seconds = time.perf_counter() - start
        spans = int((await engine.status()).counts.spans)
    finally:
        await engine.stop()
    return Timed(seconds, report), spans


def read_and_parse(root: Path, config: Config) -> Timed:
    """Walk, read and parse every file, as the scan does for a changed one; no store."""
    indexer = Indexer(root.resolve(), config.index)
    start = time.perf_counter()
    parsed = sum(
        isinstance(indexer.parse_file(f), ParsedFile)
        for f in indexer.walk()
        if isinstance(f, SourceFile)
    )
    seconds = time.perf_counter() - start
    if parsed == 0:
        raise RuntimeError(f"read + parse found no source file under {root}")
    return Timed(seconds, None)


async def gloss_everything(root: Path, db: Path, timeout_s: float) -> GlossCheck:
    """Gloss the whole tree once, then rescan it with glossing on: no chat request."""
    with LLMServer(capacity=GLOSS_CAPACITY) as server:
        config = bench_config([(server.url, GLOSS_CAPACITY)], db)
        engine = Engine(root, config)
        await engine.start()
        try:
            start = time.perf_counter()
            await engine.scan()
            async with asyncio.timeout(timeout_s):
                await engine.wait_idle()
            gloss_s = time.perf_counter() - start
            status = await engine.status()
        finally:
            await engine.stop()
        gloss_requests = len(server.requests)
        max_in_flight = server.max_in_flight
        server.reset()
        engine = Engine(root, config)
        await engine.start()
        try:
            rescan = await engine.scan()
            await engine.wait_idle()
            queue = (await engine.status()).queue
            assert queue is not None  # a live engine always reports its queue
            waiting = queue.waiting_to_retry
        finally:
            await engine.stop()
        rescan_requests = len(server.requests)
    return GlossCheck(
        spans_glossed=int(status.counts.enriched),
        failed=int(status.counts.failed),
        gloss_s=gloss_s,
        gloss_requests=gloss_requests,
        rescan=rescan,
        rescan_requests=rescan_requests,
        rescan_waiting_to_retry=waiting,
        max_in_flight=max_in_flight,
        failure_reasons=[(r.reason, r.spans) for r in status.failure_reasons],
    )


async def run_benchmark(config: BenchConfig) -> BenchReport:
    wall = time.perf_counter()
    load_start, commit = os.getloadavg()[0], source_commit()
    if config.source is not None:
        root, tree = config.source.resolve(), str(config.source)
    else:
        root, tree = django_tree(config.cache_dir or default_cache_dir(), config.django_spec)
    tmp = Path(tempfile.mkdtemp(prefix="rescan-"))
    try:
        store = tmp / "store.db"
        probe = bench_config([(UNUSED_URL, 1)], store)
        first, spans = await timed_scan(root, probe)
        assert first.report is not None
        rescans: list[Timed] = []
        fresh: list[Timed] = []
        reads: list[Timed] = []
        for i in range(config.repeats):
            rescans.append((await timed_scan(root, probe))[0])
            fresh_db = tmp / f"fresh-{i}.db"
            fresh.append((await timed_scan(root, bench_config([(UNUSED_URL, 1)], fresh_db)))[0])
            await asyncio.to_thread(remove_store, fresh_db)
            reads.append(await asyncio.to_thread(read_and_parse, root, probe))
        rss, _ = rss_mb()
        check: GlossCheck | None = None
        glossed: Series | None = None
        if config.gloss_check:
            check = await gloss_everything(root, store, config.gloss_timeout_s)
            glossed = Series(
                "rescan, every span glossed",
                [(await timed_scan(root, probe))[0] for _ in range(config.repeats)],
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _, peak = rss_mb()
    series = Series("rescan (unchanged tree)", rescans)
    full = Series("baseline: full re-index (fresh store)", fresh)
    read = Series("baseline: read + parse every file", reads)
    scans = [t.report for t in rescans + (glossed.runs if glossed else []) if t.report]
    parsed_zero = all(r.parsed == 0 and r.unchanged == first.report.files for r in scans)
    notes: list[str] = []
    if not parsed_zero:
        notes.append("a rescan of the unchanged tree parsed files again (see the ScanReports)")
    if check is not None and not check.zero_calls:
        notes.append(
            f"ZERO CALLS FAILED: the rescan with glossing on queued {check.rescan.queued}, "
            f"parsed {check.rescan.parsed}, and the server got {check.rescan_requests} requests"
        )
    if check is not None and check.failed:
        reasons = ", ".join(f"{reason} ({n})" for reason, n in check.failure_reasons)
        notes.append(
            f"{check.failed} spans failed to gloss in the gloss check (test server); most common "
            f"reasons: {reasons}; "
            f"the rescan left {check.rescan_waiting_to_retry} to their retry backoff, which "
            "retries them later: calls for failures, not for unchanged glossed spans"
        )
    return BenchReport(
        machine=loaded_machine_facts(load_start, commit),
        config={
            "source": str(config.source) if config.source else None,
            "repeats": config.repeats,
            "gloss_check": config.gloss_check,
        },
        tree=tree,
        files=first.report.files,
        spans=spans,
        distinct_spans=first.report.queued,
        first_scan=first,
        rescans=series,
        full_reindex=full,
        read_parse=read,
        rescans_glossed=glossed,
        gloss_check=check,
        ratio_full_reindex=full.median_s / series.median_s,
        ratio_read_parse=read.median_s / series.median_s,
        rescans_parsed_zero=parsed_zero,
        rss_mb=rss,
        peak_rss_mb=peak,
        wall_seconds=time.perf_counter() - wall,
        notes=notes,
    )


# --- reporting -------------------------------------------------------------------


def _scan(report: ScanReport | None) -> str:
    if report is None:
        return ""
    return (
        f"files {report.files}, parsed {report.parsed}, unchanged {report.unchanged}, "
        f"skipped {report.skipped}, removed {report.removed}, queued {report.queued}"
    )


def format_report(report: BenchReport) -> str:
    lines = [
        "Rescan of an unchanged workspace beside a full re-read "
        f"({machine_summary(report.machine)})",
        f"tree: {report.tree}: {report.files:,} files, {report.spans:,} spans "
        f"({report.distinct_spans:,} distinct texts); every scan: a fresh Engine, "
        "start(glossing=False), only scan() timed",
        "",
    ]
    header = f"{'':<40} {'median s':>9} {'min s':>7} {'max s':>7} {'runs':>4}  last ScanReport"
    lines += [header, "-" * (len(header) + 40)]
    first = report.first_scan
    lines.append(
        f"{'first scan (fresh store)':<40} {first.seconds:>9.3f} {'':>7} {'':>7} {1:>4}  "
        f"{_scan(first.report)}"
    )
    series = [report.rescans, report.full_reindex, report.read_parse]
    if report.rescans_glossed is not None:
        series.append(report.rescans_glossed)
    for s in series:
        lines.append(
            f"{s.label:<40} {s.median_s:>9.3f} {s.min_s:>7.3f} {s.max_s:>7.3f} "
            f"{len(s.runs):>4}  {_scan(s.runs[-1].report)}"
        )
    lines += [
        "",
        f"full re-index / rescan (medians): {report.ratio_full_reindex:.1f}x   "
        f"read + parse / rescan: {report.ratio_read_parse:.1f}x",
        f"every rescan parsed 0 files: {'yes' if report.rescans_parsed_zero else 'NO'}",
    ]
    check = report.gloss_check
    if check is None:
        lines.append("zero LLM calls: not checked (--no-gloss-check)")
    else:
        lines += [
            f"gloss check: {check.spans_glossed:,} spans glossed once by the test server "
            f"({check.gloss_requests:,} requests, {check.failed} failed, peak "
            f"{check.max_in_flight} in flight of {GLOSS_CAPACITY}) in {check.gloss_s:.1f} s",
            f"rescan with glossing on: {_scan(check.rescan)}; chat requests at the server: "
            f"{check.rescan_requests}",
            f"zero LLM calls on rescan: {'PASS' if check.zero_calls else 'FAIL'}",
        ]
    if report.rss_mb is not None:
        lines.append(
            f"RSS (bench process, engine included): {report.rss_mb:.0f} MB after the timed "
            f"scans, peak {report.peak_rss_mb:.0f} MB"
        )
    return finish_report(lines, report.notes, report.wall_seconds)


def report_json(report: BenchReport) -> dict[str, Any]:
    data = asdict(report)
    for key in ("rescans", "full_reindex", "read_parse", "rescans_glossed"):
        s: Series | None = getattr(report, key)
        if s is not None:
            data[key].update(median_s=s.median_s, min_s=s.min_s, max_s=s.max_s)
    return data


def main(argv: Sequence[str] | None = None) -> int:
    cli = BenchArgs(
        "python -m bench.rescan",
        "Rescan of an unchanged workspace beside a full re-read (DESIGN.md budgets).",
        BenchConfig(),
    )
    cli.add(
        Option("--source", "source", "scan this tree, not Django", Path, metavar="DIR"),
        Option(
            "--cache-dir",
            "cache_dir",
            f"where Django's wheel and tree are kept (default {default_cache_dir()})",
            Path,
            metavar="DIR",
        ),
        exclusive=True,
    )
    cli.add(
        Option(
            "--django",
            "django_spec",
            "pip requirement to download when the cache has no wheel (default %(default)s)",
            metavar="SPEC",
        ),
        Option("--repeats", "repeats", "default %(default)s", positive_int),
        Option(
            "--no-gloss-check",
            "gloss_check",
            "skip glossing the tree once to show the rescan makes no LLM call",
            action="store_false",
        ),
        Option(
            "--gloss-timeout-s",
            "gloss_timeout_s",
            "longest the gloss check may take (default %(default)g)",
            positive_float,
        ),
    )
    cli.add_json()
    config, json_path = cli.parse(argv)
    if config.source is not None and not config.source.is_dir():
        cli.parser.error(f"--source {config.source}: not a directory")
    return run_bench(run_benchmark(config), format_report, report_json, json_path)


if __name__ == "__main__":
    sys.exit(main())
