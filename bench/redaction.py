"""Redaction: the cost per span of redacting every field a request carries.

Run:  .venv/bin/python -m bench.redaction [--source DIR] [--repeats R] [--json PATH]

Every request redacts each field built from its span: `outbound_span` in
`llm/outbound.py` (path, name, scope, signature, code). Variants over the same
spans, cut from a real tree (default: this repository, whose tests hold many
fake secrets; `--source` for any other, e.g. the Django tree `bench.rescan`
unpacks under ~/.cache/gloss-bench/trees):

- `pre-check`: `outbound_span` as requests call it, with `redact_secrets`,
  which first looks for any literal a rule needs and returns the text
  untouched when there is none;
- `every rule`: the baseline, `outbound_span` with `redact_every_rule`, every
  rule scanning every field;
- `code only`: for information, what requests paid before every field was
  redacted: every rule over the code alone (which let a secret in a signature
  through).

The first two must give the same redacted span for every span; the bench
counts any difference (it must be 0). Passes alternate order between repeats;
medians of microseconds per span are reported. DESIGN.md's budget is Gloss's
whole cost per span <= 1 ms; this is one part of it. A benchmark reports: it
exits 0 either way.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from bench.support.cli_args import BenchArgs, Option, positive_int
from bench.support.report import finish_report, machine_facts
from bench.support.report import report_json as report_json  # the bench's JSON, re-exported
from enrich_core.llm.outbound import outbound_span
from enrich_core.llm.redact import (
    Redaction,
    might_hold_secret,
    redact_every_rule,
    redact_secrets,
)
from enrich_core.records.span import Span
from enrich_core.source.spans import extract_spans

REPO = Path(__file__).resolve().parents[1]
SKIP_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__", ".gloss"})
BUDGET_PER_SPAN_US = 1000.0  # all of Gloss's own work per span (DESIGN.md)


@dataclass(frozen=True, slots=True)
class BenchConfig:
    source: Path = REPO
    repeats: int = 5


@dataclass
class Variant:
    label: str
    us_per_span: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.us_per_span)


@dataclass
class BenchReport:
    machine: dict[str, object]
    source: str
    files: int
    spans: int
    spans_past_pre_check: int  # spans with a field holding a literal some rule needs
    redactions: int
    mismatches: int
    variants: dict[str, Variant]
    ratio: float
    wall_seconds: float
    notes: list[str] = field(default_factory=list)


def collect_spans(source: Path) -> tuple[int, list[Span]]:
    files = 0
    spans: list[Span] = []
    for path in sorted(source.rglob("*.py")):
        if SKIP_DIRS & set(path.relative_to(source).parts):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # the bench measures redaction, not discovery's reasons
        files += 1
        spans += extract_spans(path.relative_to(source).as_posix(), text)
    return files, spans


def timed_pass(redact_span: Callable[[Span], object], spans: list[Span]) -> float:
    """Microseconds per span to redact what a request carries of every span once."""
    started = time.perf_counter()
    for span in spans:
        redact_span(span)
    return (time.perf_counter() - started) / len(spans) * 1e6


def _reaches_the_rules(span: Span) -> bool:
    """Whether any field `outbound_span` redacts of this span gets past the pre-check."""
    seen: list[bool] = []

    def noting(text: str) -> Redaction:
        seen.append(might_hold_secret(text))
        return redact_secrets(text)

    outbound_span(span, redact=noting)
    return any(seen)


async def run_benchmark(config: BenchConfig) -> BenchReport:
    started = time.perf_counter()
    files, spans = collect_spans(config.source)
    if not spans:
        raise SystemExit(f"bench.redaction: no Python spans under {config.source}")
    mismatches = sum(outbound_span(s) != outbound_span(s, redact=redact_every_rule) for s in spans)
    past = sum(_reaches_the_rules(s) for s in spans)
    redactions = sum(outbound_span(s).redactions for s in spans)
    redactors: dict[str, Callable[[Span], object]] = {
        "pre-check": outbound_span,
        "every rule": lambda span: outbound_span(span, redact=redact_every_rule),
        "code only": lambda span: redact_every_rule(span.text),
    }
    variants = {name: Variant(name) for name in redactors}
    order = list(variants)
    for repeat in range(config.repeats):
        for name in order if repeat % 2 == 0 else reversed(order):
            variants[name].us_per_span.append(timed_pass(redactors[name], spans))
    ratio = variants["every rule"].median / variants["pre-check"].median
    notes = []
    if mismatches:
        notes.append(f"{mismatches} spans redacted differently with the pre-check: a rule lost")
    return BenchReport(
        machine=machine_facts(),
        source=str(config.source),
        files=files,
        spans=len(spans),
        spans_past_pre_check=past,
        redactions=redactions,
        mismatches=mismatches,
        variants=variants,
        ratio=ratio,
        wall_seconds=time.perf_counter() - started,
        notes=notes,
    )


def format_report(report: BenchReport) -> str:
    m = report.machine
    lines = [
        f"Redaction per span, every field a request carries ({m['cpus']} CPUs, "
        f"Python {m['python']})",
        f"source {report.source}: {report.files} files, {report.spans:,} spans; "
        f"{report.redactions} secrets redacted; "
        f"{report.spans_past_pre_check:,} spans ({report.spans_past_pre_check / report.spans:.0%})"
        " hold a literal some rule needs",
        f"{'variant':<12} {'median us/span':>15} {'min':>9} {'max':>9}",
    ]
    for v in report.variants.values():
        lines.append(
            f"{v.label:<12} {v.median:>15.1f} {min(v.us_per_span):>9.1f} {max(v.us_per_span):>9.1f}"
        )
    pre = report.variants["pre-check"].median
    lines += [
        "",
        "same redacted request fields for every span: "
        + ("yes" if report.mismatches == 0 else "NO"),
        f"every rule / pre-check (medians): {report.ratio:.1f}x; pre-check uses "
        f"{pre / BUDGET_PER_SPAN_US:.1%} of the 1 ms per-span budget",
        f"code only, every rule (before every field was redacted; information): "
        f"{report.variants['code only'].median:.1f} us/span",
    ]
    return finish_report(lines, report.notes, report.wall_seconds)


OPTIONS: Final = (
    Option("--source", "source", "tree to cut spans from (default: this repository)", Path),
    Option("--repeats", "repeats", "passes of each variant (default %(default)s)", positive_int),
)


DESCRIPTION: Final = "Redaction per span, with the pre-check vs every rule (DESIGN.md budgets)."


def main(argv: Sequence[str] | None = None) -> int:
    cli = BenchArgs.with_options("python -m bench.redaction", DESCRIPTION, BenchConfig(), OPTIONS)
    return cli.run(argv, run_benchmark, format_report, report_json)


if __name__ == "__main__":
    sys.exit(main())
