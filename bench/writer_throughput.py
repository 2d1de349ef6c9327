"""Writer throughput: glosses/s committed by the batched `Writer` vs commit-per-row.

Run:  .venv/bin/python -m bench.writer_throughput [--rows N] [--per-row-rows M]
      [--repeats R] [--per-row-seconds S] [--dir PARENT] [--json PATH] [--keep]

DESIGN.md budget: batched commits reach at least 20x the rows/s of commit-per-row,
measured side by side in the same run, on the same file system. Three variants,
each on a fresh database file in one temp directory (by default under
`bench/results/`, which git ignores; `--dir` picks another parent):

- `batched`: the real `enrich_core.store.writer.Writer` (WAL, synchronous=NORMAL, at most
  64 rows or 250 ms per commit) fed `RecordResult` ops, each holding a
  `GlossResult` with a real `Gloss` and a distinct content hash. All N ops are
  submitted without awaiting any; the clock runs from the first submit until every
  op's future has resolved, i.e. until every row is committed. That includes the
  writer's time bound: the last, partial batch waits up to 250 ms for more rows, so
  the table also shows that wait and the rate without it (for information only; the
  budget is judged on the end-to-end rate). Commits and rows per commit are counted
  per batch to show the batching (at most 64 rows each).
- `per_row_delete`: the baseline, the "IOPS killer": the same schema, then
  `PRAGMA journal_mode=DELETE` and `PRAGMA synchronous=FULL` (SQLite's defaults),
  and the writer's own writes for each gloss (the same `apply_batch`, a batch of
  one) on a thread of its own: each row is its own transaction and commit, and
  batching is the only difference from the writer.
- `per_row_wal`: the same commit-per-row loop in the store's own WAL +
  synchronous=NORMAL, what a naive user of our store would do. Shown for
  information; the budget is against `per_row_delete`.

Rows/s are compared, so the baselines
may write fewer rows (default 300, and they stop early after `--per-row-seconds`).
Variants alternate order between repeats (forward, then reversed) to spread the
noise of a small machine; medians, minima and maxima are reported. A benchmark
reports: it prints PASS/FAIL against the budget and exits 0 either way.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

from bench.support.cli_args import BenchArgs, Option, positive_float, positive_int
from bench.support.report import finish_report, machine_facts
from bench.support.report import report_json as report_json  # the bench's JSON, re-exported
from enrich_core.llm.outbound import PROMPT_VERSION
from enrich_core.records.gloss import Gloss
from enrich_core.records.result import GlossResult
from enrich_core.store.db import open_for_writing
from enrich_core.store.write_ops import RecordResult, WriteOp, apply_batch
from enrich_core.store.writer import MAX_BATCH_ROWS, Writer

Variant = Literal["batched", "per_row_delete", "per_row_wal"]
VARIANTS: Final[tuple[Variant, ...]] = ("batched", "per_row_delete", "per_row_wal")
LABELS: Final[dict[Variant, str]] = {
    "batched": "batched Writer (WAL/NORMAL)",
    "per_row_delete": "commit-per-row (DELETE/FULL)",
    "per_row_wal": "commit-per-row (WAL/NORMAL)",
}
BUDGET_RATIO: Final = 20.0
PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
DEFAULT_PARENT: Final = PROJECT_DIR / "bench" / "results"

# The same row a RecordResult writes, minus its bookkeeping statements.

_WORDS: Final = (
    "parse", "yaml", "config", "load", "cache", "token", "retry", "backoff", "span",
    "hash", "file", "path", "queue", "batch", "commit", "index", "symbol", "hover",
    "model", "tier", "reads", "writes", "returns", "raises", "validates", "workspace",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class BenchConfig:
    rows: int = 20_000  # enough that the last partial batch's 250 ms wait is amortised
    per_row_rows: int = 300
    repeats: int = 5
    per_row_seconds: float = 15.0
    parent: Path = DEFAULT_PARENT
    keep: bool = False


@dataclass(frozen=True, slots=True)
class RunResult:
    variant: Variant
    repeat: int
    rows: int  # rows written inside the timed section
    seconds: float
    rows_per_s: float
    commits: int
    batch_rows: list[int]  # rows in each commit, in commit order
    max_rows_per_commit: int
    rows_in_db: int  # counted afterwards with a separate connection
    last_batch_wait_s: float  # batched: idle wait before the final commit; else 0
    rows_per_s_without_wait: float
    journal_mode: str
    synchronous: int


@dataclass(frozen=True, slots=True)
class VariantSummary:
    variant: Variant
    label: str
    runs: list[RunResult]
    median_rows_per_s: float
    min_rows_per_s: float
    max_rows_per_s: float
    median_rows_per_s_without_wait: float


@dataclass(frozen=True, slots=True)
class BenchReport:
    machine: dict[str, Any]
    config: dict[str, Any]
    directory: str
    filesystem: str
    prompt_version: str
    variants: dict[str, VariantSummary]
    ratio_vs_delete: float
    ratio_vs_wal: float
    budget_ratio: float
    passed: bool
    wall_seconds: float
    notes: list[str] = field(default_factory=list)


def make_results(count: int) -> list[GlossResult]:
    """`count` successful router results, each with a real, valid gloss and its own hash."""
    results: list[GlossResult] = []
    n = len(_WORDS)
    for i in range(count):
        words = " ".join(_WORDS[(i * 7 + k * 5) % n] for k in range(36))
        gloss = Gloss(
            summary=f"Span {i} loads and checks the settings it is given: {words}.",
            inputs=(f"path: the file to read for span {i}", "strict: reject unknown keys"),
            outputs=("the parsed settings as a dict", "raises ValueError on a bad key"),
            side_effects=("reads one file from disk",),
            pitfalls=(f"a missing file returns defaults (case {i % 17})",),
            usage_snippet=f"settings = load_{i}(Path('gloss.toml'), strict=True)",
            tags=(_WORDS[i % n], _WORDS[(i + 3) % n], "config"),
        )
        results.append(
            GlossResult(
                content_hash=hashlib.sha256(f"bench-span-{i}".encode()).hexdigest(),
                gloss=gloss,
                model="bench-model:7b",
                tier="small",
                backend="bench",
                tokens_in=400 + i % 97,
                tokens_out=120 + i % 31,
                duration_ms=850.0 + i % 13,
                attempts=1,
            )
        )
    return results


class CountingWriter(Writer):
    """The real Writer; it also records each committed batch's size and timing.

    It calls straight through to `Writer._commit`, so what is measured is the writer's
    own batching; it only notes what `_commit` was handed.
    """

    def __init__(self, db_path: Path) -> None:
        super().__init__(db_path)
        self.batches: list[tuple[int, float, float]] = []  # (rows, start, end)

    async def _commit(self, batch: list[Any], rows: int) -> None:
        before = self.commits
        start = time.perf_counter()
        await super()._commit(batch, rows)
        if self.commits > before:
            self.batches.append((rows, start, time.perf_counter()))


def count_rows(db_path: Path, prompt_version: str = PROMPT_VERSION) -> int:
    """Glosses stored in `db_path` for `prompt_version`, read on a fresh connection."""
    conn = sqlite3.connect(db_path)
    try:
        row = conn.execute(
            "SELECT count(*) FROM glosses WHERE prompt_version = ?", (prompt_version,)
        ).fetchone()
        return int(row[0])
    finally:
        conn.close()


async def _pragma(conn: Any, sql: str) -> Any:
    async with conn.execute(sql) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def run_batched(
    db_path: Path, results: Sequence[GlossResult], prompt_version: str = PROMPT_VERSION
) -> RunResult:
    """Submit every result to a real Writer at once; time until all are committed."""
    ops = [RecordResult(r, prompt_version) for r in results]
    writer = CountingWriter(db_path)
    await writer.start()
    try:
        gc.collect()
        start = time.perf_counter()
        futures = [writer.submit(op) for op in ops]
        await asyncio.gather(*futures)
        seconds = time.perf_counter() - start
    finally:
        await writer.stop()
    assert writer.commits == len(writer.batches)
    assert writer.rows_committed == sum(b[0] for b in writer.batches) == len(ops)
    wait = 0.0
    if len(writer.batches) >= 2:
        # Between the second-last commit and the last, the writer only waited for
        # more rows (everything was already queued): that is its 250 ms time bound.
        wait = max(0.0, writer.batches[-1][1] - writer.batches[-2][2])
    batch_rows = [b[0] for b in writer.batches]
    return RunResult(
        variant="batched",
        repeat=0,
        rows=len(ops),
        seconds=seconds,
        rows_per_s=len(ops) / seconds,
        commits=writer.commits,
        batch_rows=batch_rows,
        max_rows_per_commit=max(batch_rows, default=0),
        rows_in_db=count_rows(db_path, prompt_version),
        last_batch_wait_s=wait,
        rows_per_s_without_wait=len(ops) / max(seconds - wait, 1e-9),
        journal_mode="wal",
        synchronous=1,
    )


async def run_per_row(
    db_path: Path,
    results: Sequence[GlossResult],
    journal: Literal["delete", "wal"],
    *,
    prompt_version: str = PROMPT_VERSION,
    time_limit_s: float | None = None,
) -> RunResult:
    """The writer's own writes for each gloss, each its own transaction and commit.

    Exactly what the batched variant writes per row (gloss row, full-text
    entry, failure cleanup, counters, by the same `apply_batch`), on its own
    thread, one hop per row: the only difference is one row per commit.
    """
    ops = [RecordResult(r, prompt_version) for r in results]
    conn = open_for_writing(db_path)  # creates the schema; WAL + synchronous=NORMAL
    worker = ThreadPoolExecutor(max_workers=1)
    loop = asyncio.get_running_loop()
    try:
        if journal == "delete":
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute("PRAGMA synchronous = FULL")
        mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        sync = int(conn.execute("PRAGMA synchronous").fetchone()[0])
        want = ("delete", 2) if journal == "delete" else ("wal", 1)
        if (mode, sync) != want:
            raise RuntimeError(f"baseline wanted {want}, SQLite has ({mode!r}, {sync})")
        # The connection moves to the worker thread and stays there.
        conn.close()
        conn = await loop.run_in_executor(worker, _reopen, db_path, journal)
        gc.collect()
        done = 0
        start = time.perf_counter()
        for op in ops:
            one: list[WriteOp] = [op]
            await loop.run_in_executor(worker, apply_batch, conn, one)
            done += 1
            if time_limit_s is not None and time.perf_counter() - start >= time_limit_s:
                break
        seconds = time.perf_counter() - start
    finally:
        await loop.run_in_executor(worker, conn.close)
        worker.shutdown(wait=True)
    return RunResult(
        variant="per_row_delete" if journal == "delete" else "per_row_wal",
        repeat=0,
        rows=done,
        seconds=seconds,
        rows_per_s=done / seconds,
        commits=done,
        batch_rows=[],  # one row per commit; not listed
        max_rows_per_commit=1 if done else 0,
        rows_in_db=count_rows(db_path, prompt_version),
        last_batch_wait_s=0.0,
        rows_per_s_without_wait=done / seconds,
        journal_mode=mode,
        synchronous=sync,
    )


def _reopen(db_path: Path, journal: str) -> sqlite3.Connection:
    conn = sqlite3.connect(db_path, isolation_level=None)
    if journal == "delete":
        conn.execute("PRAGMA synchronous = FULL")
    else:
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def filesystem_of(path: Path) -> str:
    """The mount holding `path`, from /proc/mounts (Linux), e.g. 'ext4 on /dev/vda at /'."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return "unknown"
    target = str(path.resolve()).rstrip("/") + "/"
    best: tuple[str, str, str] | None = None
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        device, mount, fstype = parts[0], parts[1].replace("\\040", " "), parts[2]
        if target.startswith(mount.rstrip("/") + "/") and (
            best is None or len(mount) >= len(best[1])
        ):
            best = (device, mount, fstype)
    if best is None:
        return "unknown"
    return f"{best[2]} on {best[0]} at {best[1]}"


def _remove_db(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def summarize(variant: Variant, runs: list[RunResult]) -> VariantSummary:
    rates = [r.rows_per_s for r in runs]
    return VariantSummary(
        variant=variant,
        label=LABELS[variant],
        runs=runs,
        median_rows_per_s=statistics.median(rates),
        min_rows_per_s=min(rates),
        max_rows_per_s=max(rates),
        median_rows_per_s_without_wait=statistics.median(r.rows_per_s_without_wait for r in runs),
    )


async def run_benchmark(config: BenchConfig) -> BenchReport:
    """All variants, `config.repeats` times, alternating their order; fresh DB per run."""
    wall = time.perf_counter()
    config.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="writer-throughput-", dir=config.parent))
    results = make_results(max(config.rows, config.per_row_rows))
    runs: dict[Variant, list[RunResult]] = {v: [] for v in VARIANTS}
    try:
        for repeat in range(config.repeats):
            order = VARIANTS if repeat % 2 == 0 else tuple(reversed(VARIANTS))
            for variant in order:
                db = tmp / f"{variant}-{repeat}.db"
                if variant == "batched":
                    run = await run_batched(db, results[: config.rows])
                else:
                    run = await run_per_row(
                        db,
                        results[: config.per_row_rows],
                        "delete" if variant == "per_row_delete" else "wal",
                        time_limit_s=config.per_row_seconds,
                    )
                runs[variant].append(_with_repeat(run, repeat))
                if not config.keep:
                    _remove_db(db)
    finally:
        if not config.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    summaries: dict[str, VariantSummary] = {v: summarize(v, runs[v]) for v in VARIANTS}
    batched = summaries["batched"].median_rows_per_s
    ratio_delete = batched / summaries["per_row_delete"].median_rows_per_s
    ratio_wal = batched / summaries["per_row_wal"].median_rows_per_s
    notes: list[str] = []
    short = [
        r for r in runs["per_row_delete"] + runs["per_row_wal"] if r.rows < config.per_row_rows
    ]
    if short:
        notes.append(
            f"{len(short)} per-row run(s) stopped at the {config.per_row_seconds:g} s limit "
            "before writing every row (rates are still rows/s)"
        )
    return BenchReport(
        machine=machine_facts(sqlite=sqlite3.sqlite_version),
        config={
            "rows": config.rows,
            "per_row_rows": config.per_row_rows,
            "repeats": config.repeats,
            "per_row_seconds": config.per_row_seconds,
            "max_batch_rows": MAX_BATCH_ROWS,
        },
        directory=str(tmp),
        filesystem=filesystem_of(tmp.parent),
        prompt_version=PROMPT_VERSION,
        variants=summaries,
        ratio_vs_delete=ratio_delete,
        ratio_vs_wal=ratio_wal,
        budget_ratio=BUDGET_RATIO,
        passed=ratio_delete >= BUDGET_RATIO,
        wall_seconds=time.perf_counter() - wall,
        notes=notes,
    )


def _with_repeat(run: RunResult, repeat: int) -> RunResult:
    return replace(run, repeat=repeat)


def format_report(report: BenchReport) -> str:
    m = report.machine
    lines = [
        "Writer throughput: batched commits vs commit-per-row "
        f"({m['cpus']} CPUs, Python {m['python']}, SQLite {m['sqlite']})",
        f"databases in {report.directory} ({report.filesystem}); "
        f"prompt version {report.prompt_version!r}; {report.config['repeats']} repeats, "
        "order alternating",
        "",
    ]
    header = (
        f"{'variant':<30} {'rows':>5} {'median rows/s':>14} {'min':>9} {'max':>9} "
        f"{'commits':>8} {'rows/commit':>12} {'max/commit':>10}"
    )
    lines += [header, "-" * len(header)]
    for s in report.variants.values():
        r0 = s.runs[0]
        mean_batch = statistics.mean(r.rows / r.commits for r in s.runs if r.commits)
        lines.append(
            f"{s.label:<30} {r0.rows:>5} {s.median_rows_per_s:>14,.0f} "
            f"{s.min_rows_per_s:>9,.0f} {s.max_rows_per_s:>9,.0f} {r0.commits:>8} "
            f"{mean_batch:>12.1f} {max(r.max_rows_per_commit for r in s.runs):>10}"
        )
    b = report.variants["batched"]
    waits = [r.last_batch_wait_s * 1000 for r in b.runs]
    lines += [
        "",
        f"batched: end-to-end includes the writer's time-bound wait before its last, partial "
        f"batch (median {statistics.median(waits):.0f} ms); without it the median is "
        f"{b.median_rows_per_s_without_wait:,.0f} rows/s (information only)",
        f"ratio batched / commit-per-row DELETE/FULL (medians): {report.ratio_vs_delete:,.1f}x"
        f"   budget >= {report.budget_ratio:g}x: {'PASS' if report.passed else 'FAIL'}",
        f"ratio batched / commit-per-row WAL/NORMAL  (medians): {report.ratio_vs_wal:,.1f}x"
        "   (information only)",
    ]
    return finish_report(lines, report.notes, report.wall_seconds)


OPTIONS: Final = (
    Option("--rows", "rows", "glosses per batched run (default %(default)s)", positive_int),
    Option(
        "--per-row-rows",
        "per_row_rows",
        "glosses per commit-per-row run (default %(default)s)",
        positive_int,
    ),
    Option("--repeats", "repeats", "runs of each variant (default %(default)s)", positive_int),
    Option(
        "--per-row-seconds",
        "per_row_seconds",
        "stop a commit-per-row run after this long (default %(default)s)",
        positive_float,
    ),
    Option(
        "--dir",
        "parent",
        "parent of the temp directory for the databases (default %(default)s)",
        Path,
    ),
)


DESCRIPTION: Final = "Batched Writer glosses/s vs commit-per-row baselines (DESIGN.md budgets)."


def main(argv: Sequence[str] | None = None) -> int:
    cli = BenchArgs.with_options(
        "python -m bench.writer_throughput", DESCRIPTION, BenchConfig(), OPTIONS
    )
    cli.add(Option("--keep", "keep", "keep the database files", action="store_true"))
    return cli.run(argv, run_benchmark, format_report, report_json)


if __name__ == "__main__":
    sys.exit(main())
