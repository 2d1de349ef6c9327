"""Redaction: the cost per span of redacting every field a request carries.

Run:  .venv/bin/python -m bench.redaction [--source DIR] [--repeats R] [--json PATH]

Every request redacts each field built from its span (path, name, scope,
signature, docstring, code: `llm/outbound.py`). Two variants over the same
spans, cut from a real tree (default: this repository, whose tests hold many
fake secrets; `--source` for any other, e.g. the Django tree `bench.rescan`
unpacks under ~/.cache/gloss-bench/trees):

- `pre-check`: `redact_secrets`, which first looks for any literal a rule
  needs and returns the text untouched when there is none;
- `every rule`: the baseline, `redact_every_rule`, every rule scanning every
  field;
- `code only`: for information, what requests paid before every field was
  redacted: every rule over the code alone (which let a secret in a signature
  through).

Both must give the same redactions for every field of every span; the bench
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

Redactor = Callable[[str], Redaction]


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
    fields: int
    spans_past_pre_check: int  # spans with a field holding a literal some rule needs
    redactions: int
    mismatches: int
    variants: dict[str, Variant]
    ratio: float
    wall_seconds: float
    notes: list[str] = field(default_factory=list)


def fields_of(span: Span) -> list[str]:
    """The span's text a request can carry, as `outbound_span` redacts it."""
    return [
        span.path,
        span.qualname,
        span.container or "",
        span.signature,
        span.docstring or "",
        span.text,
    ]


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


def _code_only(redact: Redactor) -> Callable[[list[str]], object]:
    return lambda span_fields: redact(span_fields[-1])


def _every_field(redact: Redactor) -> Callable[[list[str]], object]:
    return lambda span_fields: [redact(t) for t in span_fields]


def timed_pass(redact_span: Callable[[list[str]], object], texts: list[list[str]]) -> float:
    """Microseconds per span to redact every field of every span once."""
    started = time.perf_counter()
    for span_fields in texts:
        redact_span(span_fields)
    return (time.perf_counter() - started) / len(texts) * 1e6


async def run_benchmark(config: BenchConfig) -> BenchReport:
    started = time.perf_counter()
    files, spans = collect_spans(config.source)
    if not spans:
        raise SystemExit(f"bench.redaction: no Python spans under {config.source}")
    texts = [fields_of(s) for s in spans]
    mismatches = redactions = past = 0
    for span_fields in texts:
        checked = [redact_secrets(t) for t in span_fields]
        reference = [redact_every_rule(t) for t in span_fields]
        mismatches += sum(a != b for a, b in zip(checked, reference, strict=True))
        redactions += sum(r.count for r in reference)
        past += any(might_hold_secret(t) for t in span_fields)
    redactors = {
        "pre-check": _every_field(redact_secrets),
        "every rule": _every_field(redact_every_rule),
        "code only": _code_only(redact_every_rule),
    }
    variants = {name: Variant(name) for name in redactors}
    order = list(variants)
    for repeat in range(config.repeats):
        for name in order if repeat % 2 == 0 else reversed(order):
            variants[name].us_per_span.append(timed_pass(redactors[name], texts))
    ratio = variants["every rule"].median / variants["pre-check"].median
    notes = []
    if mismatches:
        notes.append(f"{mismatches} fields redacted differently with the pre-check: a rule lost")
    return BenchReport(
        machine=machine_facts(),
        source=str(config.source),
        files=files,
        spans=len(spans),
        fields=sum(len(f) for f in texts),
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
        f"source {report.source}: {report.files} files, {report.spans:,} spans, "
        f"{report.fields:,} fields; {report.redactions} secrets redacted; "
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
        f"same redactions for every field: {'yes' if report.mismatches == 0 else 'NO'}",
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
