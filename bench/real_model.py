"""The pipeline with a real model: SmolLM2-135M in process, on this machine's 2 cores.

Run:  .venv/bin/python -m bench.real_model [--json PATH]

Two variants on the same spans (the sample workspace's, `examples/sample`):

- `gloss`: the real Engine with one embedded backend and two tiers on it — the
  sample's tier (temperature 0.1), then a retry tier at temperature 0.6, so the
  quality gate's escalations show. Reported: glosses/s, generated tokens/s,
  escalation rate, valid-on-first-tier rate, rejections by reason.
- `bare`: llama-cpp-python called directly, one request per span with the same
  prompt, schema and sampling as the first tier, no gate, no store. The model's
  own speed: the ceiling for Gloss on one thread.

- `gate`: what the quality gate's issue-11 rules (`wrong_symbol`, `echoed_prompt`)
  reject that every other check passes, over every span of the sample (all its
  languages) at both tiers' temperatures, each such answer printed so it can be
  judged by eye; tests/test_real_model.py holds the judged count. With
  `--store DB --root DIR`, the same audit over the glosses a real store holds.
- `facts`: the same for issue 13's rules against the facts read from the code
  (`ungrounded_side_effect`, `ungrounded_raise`), over every function span of the
  sample and of the quality corpus's workspace they can judge (facts complete,
  no call: a call may do anything, so elsewhere they pass every answer).
- `voice-docs` (run alone, no model): the same rules on human documentation that
  must pass, each docstring's first paragraph of requests and Django as the
  summary of its span with the docstring taken out.
- `voice` (run alone: `--only voice`): issue 14's rules (`talks_to_user`,
  `copied_prompt`, `unknown_module`) over every span of the sample and a bounded
  pick of `requests` 2.32.3's (`--requests-spans N`, fetched by
  `bench.support.real_code fetch`), asked as the engine asks by default (the
  docstring in the prompt, the file's imports only to the gate), at the first
  tier's temperature. Printed: answers judged, what each rule rejects (every
  rejected answer in full, and whether another check rejects it too), what the
  whole gate accepts. `--answers PATH` keeps the model's answers; `--rejudge
  PATH` judges kept answers again without the model.

Needs the `embedded` extra. Bounded: one pass over the sample's spans each.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enrich_core.config import DEFAULT_PROMPT_CONTEXT, Config, parse_config
from enrich_core.llm.embedded import default_model_path
from enrich_core.llm.gate import (
    CHECKS,
    FACT_CHECKS,
    check_about_the_span,
    check_modules_grounded,
    check_not_echoed,
    check_not_talking_to_user,
    check_prompt_not_copied,
    check_quality,
)
from enrich_core.llm.outbound import build_prompt, outbound_span, prompt_for
from enrich_core.records.context import SpanContext
from enrich_core.records.gloss import GLOSS_SCHEMA, Gloss, GlossRejected, parse_gloss
from enrich_core.records.span import OUTLINED_KINDS, Span
from enrich_core.run.engine import Engine
from enrich_core.source.code_facts import facts_of
from enrich_core.source.spans import cut_spans, extract_spans

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sample"
# The quality bench's corpus: real code (CPython's stdlib, Go's x/net), docstrings removed.
QUALITY_WORKSPACE = Path(__file__).resolve().parent / "data" / "quality" / "workspace"
MAX_TOKENS = 400
CONTEXT = 2048


def bench_config() -> Config:
    return parse_config(
        {
            "backends": [
                {"name": "smol", "kind": "embedded", "max_concurrency": 1,
                 "context_tokens": CONTEXT, "threads": 2}
            ],
            "tiers": [
                {"name": "t0.1", "model": "SmolLM2-135M-Instruct", "backends": ["smol"],
                 "max_tokens": MAX_TOKENS, "context_tokens": CONTEXT, "temperature": 0.1},
                {"name": "t0.6", "model": "SmolLM2-135M-Instruct", "backends": ["smol"],
                 "max_tokens": MAX_TOKENS, "context_tokens": CONTEXT, "temperature": 0.6},
            ],
        },
        "bench",
    )  # fmt: skip


def sample_spans() -> list[Span]:
    spans: list[Span] = []
    for path in sorted(SAMPLE.rglob("*.py")):
        rel = path.relative_to(SAMPLE).as_posix()
        spans += extract_spans(rel, path.read_text())
    return spans


async def run_gloss(workdir: Path) -> dict[str, Any]:
    for path in SAMPLE.rglob("*.py"):
        target = workdir / path.relative_to(SAMPLE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    engine = Engine(workdir, bench_config())
    await engine.start()
    try:
        started = time.perf_counter()
        await engine.scan()
        await engine.wait_idle()
        wall = time.perf_counter() - started
        status = await engine.status()
    finally:
        await engine.stop()
    conn = sqlite3.connect(workdir / ".gloss" / "index.db")
    try:
        first_try = conn.execute(
            "SELECT count(*) FROM glosses WHERE tier = first_tier AND attempts = 1"
        ).fetchone()[0]
        (gen_s,) = conn.execute("SELECT coalesce(sum(ms), 0) / 1000.0 FROM llm_requests").fetchone()
    finally:
        conn.close()
    spans = status.counts.spans
    return {
        "spans": spans,
        "glossed": status.counts.enriched,
        "failed": status.counts.failed,
        "requests": sum(t.requests for t in status.tiers.values()),
        "wall_s": round(wall, 2),
        "glosses_per_s": round(status.counts.enriched / wall, 4),
        "tokens_out": status.counts.tokens_out,
        "generated_tokens_per_s": round(status.counts.tokens_out / gen_s, 1) if gen_s else 0.0,
        "valid_on_first_tier": round(first_try / spans, 3) if spans else 0.0,
        "escalation_rate": status.escalation.rate,
        "rejections": dict(status.escalation.rejections),
    }


def run_bare(spans: list[Span]) -> dict[str, Any]:
    llama_cpp: Any = importlib.import_module("llama_cpp")
    model = llama_cpp.Llama(
        model_path=str(default_model_path()), n_ctx=CONTEXT, n_threads=2, verbose=False
    )
    valid = tokens_out = 0
    started = time.perf_counter()
    for span in spans:
        answer = model.create_chat_completion(
            messages=prompt_for(span).as_list(),
            response_format={"type": "json_object", "schema": GLOSS_SCHEMA},
            max_tokens=MAX_TOKENS,
            temperature=0.1,
            repeat_penalty=1.1,
        )
        tokens_out += answer["usage"]["completion_tokens"]
        choice = answer["choices"][0]
        try:
            check_quality(parse_gloss(choice["message"]["content"], choice["finish_reason"]), span)
            valid += 1
        except GlossRejected:
            pass
    wall = time.perf_counter() - started
    model.close()
    return {
        "spans": len(spans),
        "requests": len(spans),
        "wall_s": round(wall, 2),
        "requests_per_s": round(len(spans) / wall, 4),
        "generated_tokens_per_s": round(tokens_out / wall, 1),
        "valid_on_first_try": round(valid / len(spans), 3),
    }


# The rules issue 11 added to the gate; the audit counts what they alone reject.
NEW_CHECKS = (check_not_echoed, check_about_the_span)
AUDIT_TEMPERATURES = (0.1, 0.6)  # the two tiers of bench_config
AUDIT_SEED = 11
FACT_RULES = "ungrounded_side_effect, ungrounded_raise"


@dataclass
class GateAudit:
    """Answers judged by the gate with and without its new rules."""

    answers: int = 0  # answers looked at
    schema_valid: int = 0  # of those, passed parse_gloss
    old_passed: int = 0  # of those, passed every check but the new ones
    # (where, reason: detail, the gloss as JSON) of each answer only a new rule rejects
    newly_rejected: list[tuple[str, str, str]] = field(default_factory=list)

    def judge(self, where: str, gloss: Gloss, span: Span) -> None:
        """Count one schema-valid answer: passed by the old checks? rejected by a new one?"""
        self.schema_valid += 1
        try:
            for check in CHECKS:
                if check not in NEW_CHECKS:
                    check(gloss, span)
        except GlossRejected:
            return
        self.old_passed += 1
        try:
            for check in NEW_CHECKS:
                check(gloss, span)
        except GlossRejected as rejected:
            self.newly_rejected.append((where, str(rejected), gloss.to_json()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "answers": self.answers,
            "schema_valid": self.schema_valid,
            "old_passed": self.old_passed,
            "newly_rejected": len(self.newly_rejected),
            "rejections": self.newly_rejected,
        }


def all_sample_spans() -> list[Span]:
    """Every span of the sample workspace, in every language it holds."""
    spans: list[Span] = []
    for path in sorted(p for p in SAMPLE.rglob("*") if p.suffix in (".py", ".ts")):
        spans += extract_spans(path.relative_to(SAMPLE).as_posix(), path.read_text())
    return spans


class FactsAudit(GateAudit):
    """Answers judged by the gate with and without the rules against the code's facts."""

    def judge(self, where: str, gloss: Gloss, span: Span) -> None:
        self.schema_valid += 1
        try:
            check_quality(gloss, span)  # every check but those given the facts
        except GlossRejected:
            return
        self.old_passed += 1
        try:
            for check in FACT_CHECKS:
                check(gloss, span, facts_of(span))
        except GlossRejected as rejected:
            self.newly_rejected.append((where, str(rejected), gloss.to_json()))


def fact_audit_spans() -> list[Span]:
    """The function spans of the sample and the quality corpus that the fact rules can
    judge: facts complete and no call."""
    spans: list[Span] = []
    for root in (SAMPLE, QUALITY_WORKSPACE):
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".ts", ".go")):
            for span in extract_spans(path.relative_to(root).as_posix(), path.read_text()):
                facts = facts_of(span)
                if span.kind not in OUTLINED_KINDS and facts.complete and not facts.calls:
                    spans.append(span)
    return spans


def audit_new_rules(
    model: Any,
    spans: list[Span],
    temperatures: tuple[float, ...] = AUDIT_TEMPERATURES,
    audit: GateAudit | None = None,
    max_tokens: int = MAX_TOKENS,
) -> GateAudit:
    """Ask `model` (a llama_cpp.Llama) for each span at each temperature; judge each answer
    (by default, with and without the issue-11 rules; a FactsAudit: the fact rules).

    Seeded, so an answer shorter than `max_tokens` is the same under any cap: a lower cap
    only cuts the long answers short (schema-invalid, not judged) and bounds the run."""
    audit = audit if audit is not None else GateAudit()
    for temperature in temperatures:
        for span in spans:
            answer = model.create_chat_completion(
                messages=prompt_for(span).as_list(),
                response_format={"type": "json_object", "schema": GLOSS_SCHEMA},
                max_tokens=max_tokens,
                temperature=temperature,
                repeat_penalty=1.1,
                seed=AUDIT_SEED,
            )
            audit.answers += 1
            choice = answer["choices"][0]
            try:
                gloss = parse_gloss(choice["message"]["content"], choice["finish_reason"])
            except GlossRejected:
                continue
            audit.judge(f"{span.path}:{span.qualname} t={temperature}", gloss, span)
    return audit


def audit_store(db: Path, root: Path) -> GateAudit:
    """The new rules over every gloss a store holds whose span's text is still in `root`."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT s.path, g.content_hash, g.body FROM glosses g "
            "JOIN spans s ON s.content_hash = g.content_hash GROUP BY g.id"
        ).fetchall()
    finally:
        conn.close()
    spans: dict[str, Span] = {}
    for path in {row[0] for row in rows}:
        try:
            text = (root / path).read_text()
        except (OSError, UnicodeDecodeError):
            continue
        spans.update((s.content_hash, s) for s in extract_spans(path, text))
    audit = GateAudit()
    for _path, content_hash, body in rows:
        span = spans.get(content_hash)
        if span is None:
            continue  # the file changed since: its text is not here to judge against
        audit.answers += 1
        try:
            gloss = parse_gloss(body)
        except GlossRejected:
            continue
        audit.judge(f"{span.path}:{span.qualname}", gloss, span)
    return audit


def run_gate_audit() -> dict[str, Any]:
    llama_cpp: Any = importlib.import_module("llama_cpp")
    model = llama_cpp.Llama(
        model_path=str(default_model_path()), n_ctx=CONTEXT, n_threads=2, verbose=False
    )
    try:
        return audit_new_rules(model, all_sample_spans()).as_dict()
    finally:
        model.close()


def run_fact_audit() -> dict[str, Any]:
    llama_cpp: Any = importlib.import_module("llama_cpp")
    model = llama_cpp.Llama(
        model_path=str(default_model_path()), n_ctx=CONTEXT, n_threads=2, verbose=False
    )
    try:
        return audit_new_rules(model, fact_audit_spans(), audit=FactsAudit()).as_dict()
    finally:
        model.close()


def format_audit(
    title: str, audit: dict[str, Any], rules: str = "wrong_symbol, echoed_prompt"
) -> str:
    lines = [
        f"{title}: {audit['answers']} answers, {audit['schema_valid']} schema-valid, "
        f"{audit['old_passed']} passed every other check; the new rules ({rules}) "
        f"rejected {audit['newly_rejected']} of those {audit['old_passed']}"
    ]
    for where, reason, body in audit["rejections"]:
        lines.append(f"  {where}: {reason}\n    {body}")
    return "\n".join(lines)


# --- issue 14: the voice rules -------------------------------------------------------

# Each rule of issue 14 on its own, as the gate runs it (the third given the imports).
VOICE_RULES: tuple[tuple[str, Any], ...] = (
    ("talks_to_user", lambda gloss, span, imports: check_not_talking_to_user(gloss, span)),
    ("copied_prompt", lambda gloss, span, imports: check_prompt_not_copied(gloss, span)),
    ("unknown_module", check_modules_grounded),
)
VOICE_CHECKS = (check_not_talking_to_user, check_prompt_not_copied)
VOICE_TEMPERATURE = 0.1  # the first tier's (bench_config, examples/sample/gloss.toml)
VOICE_SEED = 14
# Spans of `requests` asked about by default: with the sample's 13, a few dozen
# requests (SmolLM2 takes ~5 s each on 2 idle cores, far more on a shared machine:
# 1-3 minutes each with four models running). Measured (answers kept in
# bench/data/voice/): 33 answers, 18 schema-valid; rejected by talks_to_user 1,
# copied_prompt 3, unknown_module 0, each read by eye and bad (a pitfall "This is
# just one example that I have seen so far."; inputs holding the template "name:
# meaning" beside a filler or one-word summary, three times); the whole gate accepted
# 7, none of them rejected by these rules. `--only voice-docs`: 3,888 human
# docstrings, 0 rejected.
VOICE_REQUESTS_SPANS = 20
# The spans the issue quotes come first; the rest is every k-th span in path order.
VOICE_REQUESTS_NAMED = ("dispatch_hook", "request", "Session.request")


@dataclass(frozen=True)
class VoiceCase:
    """One span to ask about, with its file's import lines (for the gate only)."""

    where: str  # "sample" or "requests"
    span: Span
    imports: tuple[str, ...]


def _file_cases(where: str, root: Path, paths: list[Path]) -> list[VoiceCase]:
    cases: list[VoiceCase] = []
    for path in paths:
        cut = cut_spans(path.relative_to(root).as_posix(), path.read_text())
        cases += [VoiceCase(where, span, cut.imports) for span in cut.spans]
    return cases


def voice_cases(requests_spans: int = VOICE_REQUESTS_SPANS) -> list[VoiceCase]:
    """Every span of the sample, then `requests_spans` of `requests` (the issue's named
    spans first); raises with the fetch command when `requests` is absent."""
    from bench.support.real_code import (
        FETCH_COMMAND,
        REQUESTS,
        SOURCES,
        corpus_files,
        source_root,
    )

    sample = sorted(p for p in SAMPLE.rglob("*") if p.suffix in (".py", ".ts"))
    cases = _file_cases("sample", SAMPLE, sample)
    if requests_spans <= 0:
        return cases
    files = corpus_files(REQUESTS)
    if not files:
        raise SystemExit(f"requests {REQUESTS.version} is not fetched: run {FETCH_COMMAND}")
    # Paths as in the package's own tree (`requests/hooks.py`), as a user's workspace has them.
    root = source_root(SOURCES[REQUESTS.source]) / Path(REQUESTS.dirs[0]).parent
    found = _file_cases("requests", root, [f.path for f in files])
    named = [c for c in found if c.span.qualname in VOICE_REQUESTS_NAMED]
    rest = [c for c in found if c.span.qualname not in VOICE_REQUESTS_NAMED]
    step = max(1, len(rest) // max(1, requests_spans - len(named)))
    return cases + (named + rest[::step])[:requests_spans]


@dataclass
class VoiceAudit:
    """Answers judged by issue 14's rules, each on its own, and by the whole gate."""

    answers: int = 0
    schema_valid: int = 0
    accepted: int = 0  # passed the whole gate (imports and facts given)
    rejected_by: dict[str, int] = field(default_factory=dict)  # a rule -> answers it rejects
    # (where, reason: detail, another check that rejects it too or "", the gloss as JSON)
    rejections: list[tuple[str, str, str, str]] = field(default_factory=list)

    def judge(self, where: str, gloss: Gloss, case: VoiceCase) -> None:
        self.schema_valid += 1
        span, imports = case.span, case.imports
        other = ""
        try:
            for check in CHECKS:
                if check not in VOICE_CHECKS:
                    check(gloss, span)
            for fact_check in FACT_CHECKS:
                fact_check(gloss, span, facts_of(span))
        except GlossRejected as rejected:
            other = rejected.reason
        for reason, rule in VOICE_RULES:
            try:
                rule(gloss, span, imports)
            except GlossRejected as rejected:
                self.rejected_by[reason] = self.rejected_by.get(reason, 0) + 1
                self.rejections.append((where, str(rejected), other, gloss.to_json()))
        try:
            check_quality(gloss, span, facts_of(span), imports)
            self.accepted += 1
        except GlossRejected:
            pass

    def as_dict(self) -> dict[str, Any]:
        return {
            "answers": self.answers,
            "schema_valid": self.schema_valid,
            "accepted": self.accepted,
            "rejected_by": {reason: self.rejected_by.get(reason, 0) for reason, _ in VOICE_RULES},
            "rejections": self.rejections,
        }


def voice_prompt(case: VoiceCase) -> list[dict[str, str]]:
    """The request the engine sends by default: `[prompt] context`'s default parts (no
    callee has a gloss here, so the docstring), never the imports."""
    outbound = outbound_span(case.span, SpanContext(case.imports))
    return build_prompt(outbound, parts=DEFAULT_PROMPT_CONTEXT).as_list()


def ask_voice(model: Any, cases: list[VoiceCase], keep: Path | None = None) -> list[dict[str, Any]]:
    """Each case's answer from `model` (a llama_cpp.Llama), written to `keep` as each
    comes; a case `keep` holds already is not asked again (answers are seeded, so a
    run stopped half way resumes where it stopped)."""
    kept: list[dict[str, Any]] = []
    if keep is not None and keep.exists():
        kept = json.loads(keep.read_text())
    asked = {(item["path"], item["content_hash"]) for item in kept}
    for case in cases:
        if (case.span.path, case.span.content_hash) in asked:
            continue
        answer = model.create_chat_completion(
            messages=voice_prompt(case),
            response_format={"type": "json_object", "schema": GLOSS_SCHEMA},
            max_tokens=MAX_TOKENS,
            temperature=VOICE_TEMPERATURE,
            repeat_penalty=1.1,
            seed=VOICE_SEED,
        )
        choice = answer["choices"][0]
        kept.append(
            {
                "where": case.where,
                "path": case.span.path,
                "qualname": case.span.qualname,
                "content_hash": case.span.content_hash,
                "text": choice["message"]["content"],
                "finish_reason": choice["finish_reason"],
            }
        )
        if keep is not None:
            keep.write_text(json.dumps(kept, indent=1))
        print(f"  {len(kept)} kept: {case.span.path}:{case.span.qualname}", flush=True)
    return kept


def judge_voice(cases: list[VoiceCase], kept: list[dict[str, Any]]) -> VoiceAudit:
    by_hash = {(c.span.path, c.span.content_hash): c for c in cases}
    audit = VoiceAudit()
    for item in kept:
        case = by_hash.get((item["path"], item["content_hash"]))
        if case is None:
            continue  # the code changed since the answer was kept
        audit.answers += 1
        try:
            gloss = parse_gloss(item["text"], item["finish_reason"])
        except GlossRejected:
            continue
        audit.judge(f"{case.where} {case.span.path}:{case.span.qualname}", gloss, case)
    return audit


def run_voice_audit(
    requests_spans: int, answers: Path | None, rejudge: Path | None
) -> dict[str, Any]:
    cases = voice_cases(requests_spans)
    if rejudge is not None:
        kept = json.loads(rejudge.read_text())
    else:
        llama_cpp: Any = importlib.import_module("llama_cpp")
        model = llama_cpp.Llama(
            model_path=str(default_model_path()), n_ctx=CONTEXT, n_threads=2, verbose=False
        )
        try:
            kept = ask_voice(model, cases, answers)
        finally:
            model.close()
    return judge_voice(cases, kept).as_dict()


def format_voice(audit: dict[str, Any]) -> str:
    counts = ", ".join(f"{reason} {n}" for reason, n in audit["rejected_by"].items())
    lines = [
        f"voice rules audit (SmolLM2-135M, t = {VOICE_TEMPERATURE}, seed {VOICE_SEED}): "
        f"{audit['answers']} answers, {audit['schema_valid']} schema-valid; rejected by "
        f"{counts}; the whole gate accepted {audit['accepted']}"
    ]
    for where, reason, other, body in audit["rejections"]:
        also = f" (also {other})" if other else " (no other check rejects it)"
        lines.append(f"  {where}: {reason}{also}\n    {body}")
    return "\n".join(lines)


def docstring_answers() -> Iterator[tuple[str, Gloss, VoiceCase]]:
    """Human documentation as answers that must pass: each docstring's first paragraph
    (of four words or more) as the summary of its span, judged against the span with
    the docstring taken out (its lines gone from the text, no docstring), as a model
    that was not shown it would answer; over requests 2.32.3 and Django 5.2.19."""
    from bench.support.real_code import DJANGO, FETCH_COMMAND, REQUESTS, corpus_files

    for corpus in (REQUESTS, DJANGO):
        files = corpus_files(corpus)
        if not files:
            raise SystemExit(f"{corpus.name} is not fetched: run {FETCH_COMMAND}")
        for file in files:
            rel = file.rel.split("/", 1)[1]  # without the corpus's name
            for case in _file_cases(corpus.name, file.path.parent, [file.path]):
                doc = case.span.docstring
                if not doc or len(doc.split()) < 4:
                    continue
                lines = {line.strip() for line in doc.splitlines() if line.strip()}
                text = "\n".join(
                    line
                    for line in case.span.text.splitlines()
                    if not any(piece in line for piece in lines)
                )
                span = dataclasses.replace(case.span, text=text, docstring=None, path=rel)
                summary = " ".join(doc.strip().split("\n\n")[0].split())
                gloss = Gloss(summary, (), (), (), (), "", ())
                yield f"{rel}:{span.qualname}", gloss, VoiceCase(corpus.name, span, case.imports)


def run_docstring_audit() -> dict[str, Any]:
    judged = 0
    rejected: list[tuple[str, str, str]] = []
    for where, gloss, case in docstring_answers():
        judged += 1
        for _reason, rule in VOICE_RULES:
            try:
                rule(gloss, case.span, case.imports)
            except GlossRejected as rejection:
                rejected.append((where, str(rejection), gloss.summary))
    return {"judged": judged, "rejected": rejected}


def format_docstring_audit(audit: dict[str, Any]) -> str:
    lines = [
        f"voice rules on human docstrings (first paragraphs as summaries, requests and "
        f"Django): {audit['judged']} judged, {len(audit['rejected'])} rejected"
    ]
    lines += [f"  {where}: {reason}\n    {summary}" for where, reason, summary in audit["rejected"]]
    return "\n".join(lines)


def run_variant(variant: str) -> dict[str, Any]:
    """One variant in a fresh interpreter: a second llama.cpp instance in the same
    process (measured) runs at about half speed on 2 cores, whatever the order."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        subprocess.run(
            [sys.executable, "-m", "bench.real_model", "--only", variant, "--json", str(out)],
            check=True,
            timeout=1800,
        )
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.real_model", description=__doc__)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--only",
        choices=("bare", "gloss", "gate", "facts", "voice", "voice-docs"),
        help="one variant alone (voice, voice-docs: issue 14's rules, on the model's "
        "answers and on human docstrings; not part of the full run)",
    )
    parser.add_argument(
        "--requests-spans",
        type=int,
        default=VOICE_REQUESTS_SPANS,
        metavar="N",
        help=f"voice: spans of requests asked about beside the sample's (default "
        f"{VOICE_REQUESTS_SPANS}; 0: the sample alone)",
    )
    parser.add_argument("--answers", type=Path, help="voice: keep the model's answers here")
    parser.add_argument(
        "--rejudge", type=Path, help="voice: judge the answers kept here, without the model"
    )  # fmt: skip
    parser.add_argument("--store", type=Path, help="audit the glosses of this index.db instead")
    parser.add_argument("--root", type=Path, help="the workspace of --store")
    args = parser.parse_args()
    if args.store:
        audit = audit_store(args.store, args.root or args.store.parent.parent).as_dict()
        print(format_audit(f"store {args.store}", audit))
        return
    if args.only == "gate":
        args.json.write_text(json.dumps(run_gate_audit()))
        return
    if args.only == "facts":
        audit = run_fact_audit()
        if args.json:
            args.json.write_text(json.dumps(audit))
        print(format_audit("fact rules audit", audit, FACT_RULES))
        return
    if args.only == "voice":
        audit = run_voice_audit(args.requests_spans, args.answers, args.rejudge)
        if args.json:
            args.json.write_text(json.dumps(audit))
        print(format_voice(audit))
        return
    if args.only == "voice-docs":
        docs = run_docstring_audit()
        if args.json:
            args.json.write_text(json.dumps(docs))
        print(format_docstring_audit(docs))
        return
    if args.only == "bare":
        args.json.write_text(json.dumps(run_bare(sample_spans())))
        return
    if args.only == "gloss":
        with tempfile.TemporaryDirectory() as tmp:
            args.json.write_text(json.dumps(asyncio.run(run_gloss(Path(tmp)))))
        return
    spans = sample_spans()
    bare = run_variant("bare")
    gloss = run_variant("gloss")
    gate = run_variant("gate")
    facts = run_variant("facts")
    per_request = gloss["requests"] / gloss["wall_s"] if gloss["wall_s"] else 0.0
    print(f"SmolLM2-135M in process, 2 threads; {len(spans)} spans of {SAMPLE.name}")
    print(f"bare llama-cpp : {bare['requests_per_s']:.3f} requests/s, "
          f"{bare['generated_tokens_per_s']} generated tokens/s, "
          f"valid (schema + gate) {bare['valid_on_first_try']:.0%}")  # fmt: skip
    print(f"Gloss          : {per_request:.3f} requests/s, {gloss['glosses_per_s']:.3f} glosses/s, "
          f"{gloss['generated_tokens_per_s']} generated tokens/s, "
          f"valid on first tier {gloss['valid_on_first_tier']:.0%}, "
          f"escalation rate {gloss['escalation_rate']:.0%}, "
          f"glossed {gloss['glossed']}/{gloss['spans']}, "
          f"rejections {gloss['rejections']}")  # fmt: skip
    if bare["requests_per_s"]:
        print(f"Gloss requests/s over bare: {per_request / bare['requests_per_s']:.2f}")
    temperatures = ", ".join(str(t) for t in AUDIT_TEMPERATURES)
    print(format_audit(f"gate audit (every sample span, t = {temperatures})", gate))
    print(format_audit(f"fact rules audit (spans they can judge, t = {temperatures})", facts,
                       FACT_RULES))  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        results = {"bare": bare, "gloss": gloss, "gate": gate, "facts": facts}
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
