"""Languages: cutting real code of every language, and indexing it as one tree.

Run:  .venv/bin/python -m bench.languages [--cache-dir DIR] [--repeats R]
      [--files N] [--no-index] [--json PATH]

The code is the real-code corpora (`bench/support/real_code.py`; fetch them first
with `.venv/bin/python -m bench.support.real_code fetch`), read into memory once.

(a) Per language: the files cut whole with `extract_spans` (the one extractor:
parse, query, spans), beside the same files' bare tree-sitter parse
(`grammars.parser(spec).parse(data)`) in the same run. Each repeat times one
pass of each per language, the order of the two alternating between repeats;
medians are reported, with two ratios: extract / parse, and walk / parse, the
walk being what cutting costs beyond the parse (extract - parse). The budget
(issue 10: "the span walk should cost at most 2x the parse") is on the walk:
walk <= 2x parse, that is extract <= 3x parse. Files the extractor raises on
are counted, named and left out of both timings.

(b) `gloss index` (the installed console script, a process of its own) of a
mixed repository of at least `--files` files (default 5,000): every corpus file
copied into one temp tree by corpus, then, if there are fewer, copies of them in
`copy-K/` folders with a comment line appended (another file, the same
definitions), until there are enough. Its gloss.toml has one test backend, the
test LLM server on 127.0.0.1 answering at once (an instant backend), and
`skip_dirs = []`: npm's bundled `node_modules` is the corpus, not a dependency.
Timed: the first full index (spans/s beside DESIGN.md's budget of >= 1,000
spans/s against an instant backend), then `--repeats` re-runs of `gloss index`
on the unchanged tree, each alternating with the baseline: reading and parsing
every file the walk yields (`Indexer.parse_file`, in this process, nothing
written), the least any re-read must cost. Budget: the re-index of an unchanged
workspace makes zero LLM calls. The server records each run's chat requests,
each naming its span's path and qualname; `gloss index` retries spans whose
gloss failed at once, by design, and the test server's answers do fail the
quality gate for a few (a function with more than 8 parameters, a `_`
parameter), so the check is that no request names a span that had its gloss
before the run (read from the store). The gloss process's CPU time per span is
reported beside DESIGN.md's "Gloss's own cost per span <= 1 ms". Files the
extractor raises on are left out of the tree (noted in the report when it
happens); `gloss index` would list them as skipped.

A benchmark reports: it prints its figures and exits 0.
"""

from __future__ import annotations

import gc
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.support.cli_args import BenchArgs, Option, positive_float, positive_int
from bench.support.gloss_cli import gloss_command
from bench.support.llm_server import LLMServer
from bench.support.real_code import FETCH_COMMAND, CorpusFile, files_by_language
from bench.support.report import finish_report, loaded_machine_facts, machine_summary
from bench.support.workspace import MODEL, TIER, source_commit
from enrich_core.config import load_config
from enrich_core.llm.outbound import PROMPT_VERSION
from enrich_core.source import grammars
from enrich_core.source.discovery import SourceFile
from enrich_core.source.indexer import Indexer
from enrich_core.source.parsed_file import ParsedFile
from enrich_core.source.spans import extract_spans
from enrich_core.store.reads import Store

# The span walk (extract_spans beyond its parse) at most 2x the bare parse (issue 10).
WALK_RATIO_BUDGET: Final = 2.0
SPANS_PER_S_BUDGET: Final = 1000.0  # `gloss index` against an instant backend (DESIGN.md)
GLOSS_CAPACITY: Final = 8
# `gloss index` prints this on stderr once its scan is done.
# Each request names its span's file on a line of its own (llm/outbound.py).
PATH_LINE: Final = re.compile(r"^Path: (.*)$", re.MULTILINE)
# `gloss index`'s plan: "N files (P parsed, U unchanged, S skipped)", then on the
# next line "Q spans to gloss of M (...)".
SCAN_LINE: Final = re.compile(
    r"(?P<files>\d+) files? \((?P<parsed>\d+) parsed, (?P<unchanged>\d+) unchanged, "
    r"(?P<skipped>\d+) skipped\)\n?(?:(?P<queued>\d+) spans? to gloss)?"
)


@dataclass(frozen=True, slots=True)
class BenchConfig:
    cache_dir: Path | None = None  # None: real_code.default_cache_dir()
    repeats: int = 5
    index: bool = True
    files: int = 5000  # the mixed tree holds at least this many files
    index_timeout_s: float = 1800.0  # each `gloss index` run


# --- (a) cutting beside parsing ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    file: CorpusFile
    text: str
    data: bytes  # the text as the extractor encodes it


@dataclass(frozen=True, slots=True)
class LanguageRun:
    language: str
    files: int  # timed (raising files left out)
    bytes: int
    spans: int
    syntax_error_files: int  # files whose tree holds an ERROR or MISSING node
    raised: list[str]  # "path: error" of each file extract_spans raised on
    extract_s: list[float]  # one pass over every file, per repeat
    parse_s: list[float]

    @property
    def extract_median_s(self) -> float:
        return statistics.median(self.extract_s)

    @property
    def parse_median_s(self) -> float:
        return statistics.median(self.parse_s)

    @property
    def ratio(self) -> float:
        return self.extract_median_s / self.parse_median_s

    @property
    def walk_ratio(self) -> float:
        """What cutting costs beyond parsing, in parses."""
        return self.ratio - 1.0

    @property
    def spans_per_s(self) -> float:
        return self.spans / self.extract_median_s

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.extract_median_s

    @property
    def passed(self) -> bool:
        return self.walk_ratio <= WALK_RATIO_BUDGET


def read_sources(files: Sequence[CorpusFile]) -> list[Source]:
    sources = []
    for f in files:
        # As the indexer reads: bytes decoded whole, no newline translation, BOM dropped.
        text = f.path.read_bytes().decode("utf-8-sig", "surrogateescape")
        sources.append(Source(f, text, text.encode("utf-8", "surrogatepass")))
    return sources


def time_extract(sources: Sequence[Source]) -> tuple[float, int]:
    gc.collect()  # garbage from the pass before is not this pass's cost
    spans = 0
    start = time.perf_counter()
    for s in sources:
        spans += len(extract_spans(s.file.rel, s.text, s.file.spec))
    return time.perf_counter() - start, spans


def time_parse(sources: Sequence[Source]) -> float:
    gc.collect()
    start = time.perf_counter()
    for s in sources:
        grammars.parser(s.file.spec).parse(s.data)
    return time.perf_counter() - start


def measure_languages(
    by_language: dict[str, list[CorpusFile]], repeats: int
) -> tuple[list[LanguageRun], set[str]]:
    """Every language timed, repeats interleaved: (runs, rel paths that raised)."""
    prepared: dict[str, list[Source]] = {}
    raised: dict[str, list[str]] = {}
    spans: dict[str, int] = {}
    broken: dict[str, int] = {}
    for language, files in by_language.items():
        ok: list[Source] = []
        raised[language] = []
        # Untimed first pass: finds raising files, counts spans, loads grammars and
        # compiles queries (both cached), so no timed pass pays for a first use.
        for source in read_sources(files):
            try:
                extract_spans(source.file.rel, source.text, source.file.spec)
            except Exception as error:  # a finding to report, not the bench's failure
                raised[language].append(f"{source.file.rel}: {type(error).__name__}: {error}")
                continue
            ok.append(source)
        prepared[language] = ok
        broken[language] = sum(
            grammars.parser(s.file.spec).parse(s.data).root_node.has_error for s in ok
        )
    extract: dict[str, list[float]] = {lang: [] for lang in prepared}
    parse: dict[str, list[float]] = {lang: [] for lang in prepared}
    for i in range(repeats):
        for language, sources in prepared.items():
            if i % 2 == 0:
                seconds, spans[language] = time_extract(sources)
                extract[language].append(seconds)
                parse[language].append(time_parse(sources))
            else:
                parse[language].append(time_parse(sources))
                seconds, spans[language] = time_extract(sources)
                extract[language].append(seconds)
    runs = [
        LanguageRun(
            language=language,
            files=len(sources),
            bytes=sum(len(s.data) for s in sources),
            spans=spans[language],
            syntax_error_files=broken[language],
            raised=raised[language],
            extract_s=extract[language],
            parse_s=parse[language],
        )
        for language, sources in prepared.items()
    ]
    left_out = {entry.split(": ", 1)[0] for r in runs for entry in r.raised}
    return runs, left_out


# --- (b) `gloss index` of a mixed tree ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexRun:
    seconds: float
    cpu_s: float  # user + system CPU time of the gloss process (getrusage of children)
    scan_s: float | None  # start -> the scan line on stderr (walk, read, cut, write)
    exit_code: int
    requests: int  # chat requests the test server received during the run
    # Of those, requests naming a span that had a gloss before the run: the calls the
    # budget forbids. The rest retry spans whose gloss failed (`gloss index` retries
    # failures at once, by design).
    requests_for_glossed: int
    scan: dict[str, int]  # the scan line `gloss index` prints: files, parsed, ...
    output: str  # its stdout (the summary)


@dataclass(frozen=True, slots=True)
class IndexReport:
    tree_files: int  # files written to the mixed tree
    by_language: dict[str, int]  # of those, per language
    copies: int  # passes over the corpus files (1: every file once, no copies)
    left_out: list[str]  # corpus files left out: extract_spans raised on them
    first: IndexRun
    status: dict[str, Any]  # `gloss status --json` after the first index
    rescans: list[IndexRun]
    read_parse_s: list[float]  # baseline, alternating with the rescans
    files_read: int  # files the baseline read and parsed

    @property
    def spans(self) -> int:
        return int(self.status.get("spans", 0))

    @property
    def spans_per_s(self) -> float:
        return self.spans / self.first.seconds

    @property
    def rescan_median_s(self) -> float:
        return statistics.median(r.seconds for r in self.rescans)

    @property
    def read_parse_median_s(self) -> float:
        return statistics.median(self.read_parse_s)

    @property
    def zero_calls(self) -> bool:
        """No rescan parsed a file or asked for a span that had its gloss."""
        return all(r.requests_for_glossed == 0 and r.scan.get("parsed") == 0 for r in self.rescans)


def build_tree(
    root: Path, by_language: dict[str, list[CorpusFile]], target: int, left_out: set[str]
) -> tuple[dict[str, int], int]:
    """Every corpus file under `root/<rel>`, then copies until there are `target`
    files: (files per language, passes made). Deterministic: corpus order, then
    path order, each copy pass in the same order."""
    files = [f for lang in by_language for f in by_language[lang] if f.rel not in left_out]
    if not files:
        raise RuntimeError(f"no corpus file to index: run `{FETCH_COMMAND}`")
    counts: Counter[str] = Counter()
    written = passes = 0
    while written < target or passes == 0:  # bounded: each pass writes len(files) >= 1
        for f in files:
            if passes and written >= target:
                break
            rel = f.rel if passes == 0 else f"copy-{passes}/{f.rel}"
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            data = f.path.read_bytes()
            if passes:
                # Another file with the same definitions: distinct bytes and path.
                tail = f"\n{f.spec.line_comment} copy {passes} of {f.rel}\n"
                data = data + tail.encode()
            dest.write_bytes(data)
            counts[f.spec.name] += 1
            written += 1
        passes += 1
    return dict(counts), passes


def write_gloss_toml(root: Path, url: str) -> None:
    (root / "gloss.toml").write_text(
        "[index]\n"
        "skip_dirs = []  # npm's bundled node_modules is the corpus, not a dependency\n\n"
        "[[backends]]\n"
        'name = "test"\n'
        'kind = "ollama"\n'
        f'url = "{url}"\n'
        f"max_concurrency = {GLOSS_CAPACITY}\n"
        "timeout_s = 60\n"
        "max_retries = 0\n\n"
        "[[tiers]]\n"
        f'name = "{TIER}"\n'
        f'model = "{MODEL}"\n'
        'backends = ["test"]\n'
    )


def run_gloss(
    args: Sequence[str], root: Path, timeout_s: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*gloss_command(), *args], cwd=root, capture_output=True, text=True,
        timeout=timeout_s, check=False,
    )  # fmt: skip


def timed_index(
    root: Path,
    server: LLMServer,
    timeout_s: float,
    unglossed_before: set[tuple[str, str]] | None,
) -> IndexRun:
    """One `gloss index`, timed, with the time its scan line shows on stderr.
    `unglossed_before`: the spans without a gloss before the run; None: all of them."""
    server.reset()
    scan_at: list[float] = []
    err_lines: list[str] = []
    cpu_start = _children_cpu_s()
    start = time.perf_counter()
    with subprocess.Popen(
        [*gloss_command(), "index", str(root)], cwd=root, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        errors = proc.stderr

        def read_errors() -> None:
            for line in errors:  # ends when the process closes stderr
                if not scan_at and SCAN_LINE.search(line):
                    scan_at.append(time.perf_counter())
                err_lines.append(line)

        reader = threading.Thread(target=read_errors, daemon=True)
        reader.start()
        try:
            out = proc.stdout.read()
            code = proc.wait(timeout=timeout_s)
        except BaseException:
            proc.kill()
            raise
        reader.join(timeout=timeout_s)
    seconds = time.perf_counter() - start
    cpu_s = _children_cpu_s() - cpu_start  # the process was waited for: it is counted
    err = "".join(err_lines)
    if code not in (0, 3):  # 3: some spans pending or failed, said why
        raise RuntimeError(f"gloss index exited {code}:\n{out[-3000:]}{err[-3000:]}")
    match = SCAN_LINE.search(err)
    scan = {k: int(v) for k, v in match.groupdict().items() if v is not None} if match else {}
    asked = requested_spans(server)
    return IndexRun(
        seconds=seconds,
        cpu_s=cpu_s,
        scan_s=scan_at[0] - start if scan_at else None,
        exit_code=code,
        requests=len(asked),
        requests_for_glossed=(
            0 if unglossed_before is None else sum(a not in unglossed_before for a in asked)
        ),
        scan=scan,
        output=out.strip(),
    )


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def requested_spans(server: LLMServer) -> list[tuple[str, str]]:
    """(path, qualname) each chat request named, from its `Path:` line and symbol."""
    asked = []
    for request in server.requests:
        text = "\n".join(str(m.get("content", "")) for m in request.body.get("messages", []))
        path = PATH_LINE.search(text)
        asked.append((path.group(1) if path else "", request.symbol or ""))
    return asked


async def unglossed_spans(root: Path) -> set[tuple[str, str]]:
    """(path, qualname) of every span without a gloss in the tree's store."""
    store = await Store.open(root / load_config(root).store.path, PROMPT_VERSION)
    try:
        return {(u.span.path, u.span.qualname) for u in await store.unglossed_spans()}
    finally:
        await store.close()


def read_and_parse(root: Path) -> tuple[float, int]:
    """Walk, read and parse every file the index reads; nothing written: (s, files)."""
    indexer = Indexer(root.resolve(), load_config(root).index)
    gc.collect()
    start = time.perf_counter()
    parsed = sum(
        isinstance(indexer.parse_file(f), ParsedFile)
        for f in indexer.walk()
        if isinstance(f, SourceFile)  # a skipped file is listed, not read
    )
    return time.perf_counter() - start, parsed


async def measure_index(
    by_language: dict[str, list[CorpusFile]],
    left_out: set[str],
    config: BenchConfig,
) -> IndexReport:
    tmp = Path(tempfile.mkdtemp(prefix="languages-"))
    try:
        root = tmp / "mixed"
        counts, passes = build_tree(root, by_language, config.files, left_out)
        with LLMServer(capacity=GLOSS_CAPACITY) as server:
            write_gloss_toml(root, server.url)
            first = timed_index(root, server, config.index_timeout_s, None)
            status_run = run_gloss(["status", str(root), "--json"], root, config.index_timeout_s)
            status: dict[str, Any] = json.loads(status_run.stdout)
            rescans: list[IndexRun] = []
            reads: list[float] = []
            files_read = 0
            for i in range(config.repeats):
                failed = await unglossed_spans(root)
                if i % 2 == 0:
                    rescans.append(timed_index(root, server, config.index_timeout_s, failed))
                    seconds, files_read = read_and_parse(root)
                    reads.append(seconds)
                else:
                    seconds, files_read = read_and_parse(root)
                    reads.append(seconds)
                    rescans.append(timed_index(root, server, config.index_timeout_s, failed))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return IndexReport(
        tree_files=sum(counts.values()),
        by_language=counts,
        copies=passes,
        left_out=sorted(left_out),
        first=first,
        status=status,
        rescans=rescans,
        read_parse_s=reads,
        files_read=files_read,
    )


# --- the run --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BenchReport:
    machine: dict[str, Any]
    config: dict[str, Any]
    languages: list[LanguageRun]
    index: IndexReport | None
    wall_seconds: float
    notes: list[str] = field(default_factory=list)


async def run_benchmark(config: BenchConfig) -> BenchReport:
    wall = time.perf_counter()
    load_start, commit = os.getloadavg()[0], source_commit()
    by_language = files_by_language(config.cache_dir)
    if not by_language:
        raise RuntimeError(f"no real-code corpus is present: run `{FETCH_COMMAND}`")
    runs, left_out = measure_languages(by_language, config.repeats)
    index = await measure_index(by_language, left_out, config) if config.index else None
    notes: list[str] = []
    for run in runs:
        if run.raised:
            notes.append(
                f"extract_spans raised on {len(run.raised)} {run.language} files, left out of "
                f"the timings and the mixed tree (one such file aborts a whole scan): "
                + "; ".join(run.raised[:3])
            )
    if index is not None:
        if not index.zero_calls:
            calls = [r.requests_for_glossed for r in index.rescans]
            notes.append(f"ZERO CALLS FAILED: the rescans asked {calls} times for glossed spans")
        retried = [r.requests - r.requests_for_glossed for r in index.rescans]
        if any(retried):
            notes.append(
                f"each rescan retried the spans whose gloss failed ({retried} requests, of "
                f"{index.status.get('failed', 0)} failed spans): `gloss index` retries failures "
                "at once by design; they fail again on the test server's answers (see above)"
            )
        if index.first.exit_code != 0:
            notes.append(f"the first index exited {index.first.exit_code}: {index.first.output}")
    return BenchReport(
        machine=loaded_machine_facts(load_start, commit),
        config={
            "cache_dir": str(config.cache_dir) if config.cache_dir else None,
            "repeats": config.repeats,
            "index": config.index,
            "files": config.files,
        },
        languages=runs,
        index=index,
        wall_seconds=time.perf_counter() - wall,
        notes=notes,
    )


# --- reporting --------------------------------------------------------------------------


def format_report(report: BenchReport) -> str:
    lines = [
        f"Languages: extract_spans beside the bare tree-sitter parse, real code "
        f"({machine_summary(report.machine)}); medians of {report.config['repeats']} "
        "passes, order alternating",
        "",
    ]
    header = (
        f"{'language':<11} {'files':>6} {'MB':>6} {'spans':>7} {'extract s':>10} "
        f"{'spans/s':>8} {'MB/s':>5} {'parse s':>8} {'x/p':>6} {'walk/p':>6}  "
        f"budget walk <= {WALK_RATIO_BUDGET:g}x parse"
    )
    lines += [header, "-" * len(header)]
    for r in report.languages:
        lines.append(
            f"{r.language:<11} {r.files:>6,} {r.bytes / 1e6:>6.2f} {r.spans:>7,} "
            f"{r.extract_median_s:>10.3f} {r.spans_per_s:>8,.0f} {r.mb_per_s:>5.1f} "
            f"{r.parse_median_s:>8.3f} {r.ratio:>5.2f}x {r.walk_ratio:>5.2f}x  "
            f"{'PASS' if r.passed else 'FAIL'}"
        )
    total_extract = sum(r.extract_median_s for r in report.languages)
    total_parse = sum(r.parse_median_s for r in report.languages)
    files = sum(r.files for r in report.languages)
    mb = sum(r.bytes for r in report.languages) / 1e6
    spans = sum(r.spans for r in report.languages)
    lines.append(
        f"{'all':<11} {files:>6,} {mb:>6.2f} {spans:>7,} {total_extract:>10.3f} "
        f"{spans / total_extract:>8,.0f} {mb / total_extract:>5.1f} {total_parse:>8.3f} "
        f"{total_extract / total_parse:>5.2f}x {total_extract / total_parse - 1:>5.2f}x"
    )
    lines.append(
        "x/p: extract_spans (parse, query, spans) / bare parse; walk/p: (extract - parse) / parse"
    )
    broken = ", ".join(
        f"{r.language} {r.syntax_error_files}" for r in report.languages if r.syntax_error_files
    )
    lines.append(
        f"files whose tree holds a syntax error (tree-sitter recovers): {broken or 'none'}"
    )
    index = report.index
    if index is None:
        lines.append("\ngloss index: not run (--no-index)")
    else:
        by_lang = ", ".join(f"{k} {v:,}" for k, v in index.by_language.items())
        status = index.status
        lines += [
            "",
            f"gloss index of a mixed tree of {index.tree_files:,} files ({by_lang}; "
            f"{index.copies - 1} copy passes) against the test LLM server on 127.0.0.1 "
            f"(instant, {GLOSS_CAPACITY} slots)",
            f"first index: {index.first.seconds:.1f} s (its scan {_seconds(index.first.scan_s)}), "
            f"exit {index.first.exit_code}; {_scan(index.first.scan)}; "
            f"{index.first.requests:,} chat requests",
            f"  glossing after the scan: {index.first.requests:,} requests in "
            f"{_gloss_s(index.first)}",
            f"  store: {status.get('spans', 0):,} spans, {status.get('enriched', 0):,} glossed, "
            f"{status.get('failed', 0):,} failed, {len(status.get('skipped_files', {})):,} "
            f"files skipped; the gloss process used {index.first.cpu_s:.1f} s of CPU, "
            f"{index.first.cpu_s / max(index.spans, 1) * 1000:.2f} ms per span; "
            f"{index.spans_per_s:,.0f} spans/s end to end "
            f"(budget >= {SPANS_PER_S_BUDGET:,.0f}): "
            f"{'PASS' if index.spans_per_s >= SPANS_PER_S_BUDGET else 'FAIL'}",
            f"rescan (gloss index, unchanged tree): median {index.rescan_median_s:.2f} s "
            f"(min {min(r.seconds for r in index.rescans):.2f}, max "
            f"{max(r.seconds for r in index.rescans):.2f}); last: {_scan(index.rescans[-1].scan)}",
            f"baseline, read + parse every file ({index.files_read:,} files, in process): "
            f"median {index.read_parse_median_s:.2f} s; read + parse / rescan "
            f"{index.read_parse_median_s / index.rescan_median_s:.1f}x",
            f"chat requests per rescan: {[r.requests for r in index.rescans]}, of them for a "
            f"span that had its gloss: {[r.requests_for_glossed for r in index.rescans]}; "
            f"zero LLM calls on rescan: {'PASS' if index.zero_calls else 'FAIL'}",
        ]
        skipped = Counter(_reason(r) for r in status.get("skipped_files", {}).values())
        if skipped:
            lines.append(
                "  skipped: " + ", ".join(f"{reason} ({n})" for reason, n in skipped.most_common())
            )
    return finish_report(lines, report.notes, report.wall_seconds)


def _gloss_s(run: IndexRun) -> str:
    if run.scan_s is None:
        return "unknown time (no scan line seen)"
    seconds = run.seconds - run.scan_s
    return f"{seconds:.1f} s, {run.requests / seconds:,.0f} requests/s"


def _seconds(value: float | None) -> str:
    return "unseen" if value is None else f"{value:.1f} s"


def _scan(scan: dict[str, int]) -> str:
    if not scan:
        return "no scan line printed"
    return ", ".join(f"{k} {v:,}" for k, v in scan.items())


def _reason(reason: str) -> str:
    """A skip reason without its particulars: `generated: line 1 says '...'` -> `generated`."""
    return re.split(r"[:(;]", reason, maxsplit=1)[0].strip()


def report_json(report: BenchReport) -> dict[str, Any]:
    data = asdict(report)
    for run, entry in zip(report.languages, data["languages"], strict=True):
        entry.update(
            extract_median_s=run.extract_median_s,
            parse_median_s=run.parse_median_s,
            ratio=run.ratio,
            walk_ratio=run.walk_ratio,
            spans_per_s=run.spans_per_s,
            passed=run.passed,
        )
    if report.index is not None:
        data["index"].update(
            spans_per_s=report.index.spans_per_s,
            rescan_median_s=report.index.rescan_median_s,
            read_parse_median_s=report.index.read_parse_median_s,
            zero_calls=report.index.zero_calls,
        )
    return data


def main(argv: Sequence[str] | None = None) -> int:
    cli = BenchArgs.with_options(
        "python -m bench.languages",
        "extract_spans beside bare parsing per language, and gloss index of a mixed tree.",
        BenchConfig(),
        [
            Option("--cache-dir", "cache_dir", "where the corpora are (default: real_code's)",
                   Path, metavar="DIR"),
            Option("--repeats", "repeats", "default %(default)s", positive_int),
            Option("--files", "files", "the mixed tree's least size (default %(default)s)",
                   positive_int),
            Option("--no-index", "index", "skip the gloss index part", action="store_false"),
            Option("--index-timeout-s", "index_timeout_s",
                   "longest one gloss index may take (default %(default)g)", positive_float),
        ],
    )  # fmt: skip
    return cli.run(argv, run_benchmark, format_report, report_json)


if __name__ == "__main__":
    sys.exit(main())
