"""The quality bench's scores: each case's gloss and every raw answer, judged and summed.

A case scores on what the pipeline really did: its final `GlossResult` (shown
gloss or failure, escalations) and the answers the recording proxy saw for it,
each re-judged the way the router judges it (`parse_gloss`, then the gate's
`check_quality`). Cosines are between unit vectors of a real embedding model
(bench/support/minilm.py); the baseline of a case is its name's words and
signature against the same hidden text. Nothing here calls a model or guesses a
figure: a score that cannot be computed (claims before `judge_claims` exists)
is None, and the table says why.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.support.quality_workspace import PreparedCase, name_words
from enrich_core.llm.gate import check_quality
from enrich_core.records.gloss import Gloss, GlossRejected, parse_gloss
from enrich_core.records.result import GlossResult
from enrich_core.records.span import Span

__all__ = [
    "Answer",
    "CaseScore",
    "Embedder",
    "Scores",
    "claim_judge",
    "score_case",
    "summarize",
]

Embedder = Callable[[str], Sequence[float]]
ClaimJudge = Callable[[Gloss, Span], tuple[int, int, int]]
CLAIMS_NOT_BUILT = "n/a (not built)"


@dataclass(frozen=True, slots=True)
class Answer:
    """One request for a span as the recording proxy saw it: the model's raw text, or
    the backend error it ended with."""

    path: str | None
    symbol: str | None
    temperature: float
    seconds: float
    text: str | None = None
    finish_reason: str | None = None
    error: str | None = None


class CachedEmbedder:
    """An embedder that embeds each distinct text once."""

    def __init__(self, embed: Embedder) -> None:
        self._embed = embed
        self._cache: dict[str, Sequence[float]] = {}

    def __call__(self, text: str) -> Sequence[float]:
        vector = self._cache.get(text)
        if vector is None:
            vector = self._cache[text] = self._embed(text)
        return vector

    def cosine(self, a: str, b: str) -> float:
        """Of unit vectors, as minilm gives: their dot product."""
        return float(sum(x * y for x, y in zip(self(a), self(b), strict=True)))


@dataclass(frozen=True, slots=True)
class CaseScore:
    id: str
    language: str
    qualname: str
    baseline: float  # name words + signature against the target
    shown_baseline: float | None  # the shown first sentence against the target
    summary: str | None  # the shown gloss's summary
    cosine: float | None  # of the shown summary
    beats: bool  # shown and above its baseline (a failure is a loss)
    failure: str | None
    escalated: bool
    first_tier_schema_valid: bool
    gate_false: int  # gate-rejected answers whose summary would have beaten the baseline
    gate_true: int  # gate-rejected answers that would not
    schema_invalid: int  # answers parse_gloss rejected
    # (reason, summary, cosine, what the gate said) of each gate rejection
    rejected: tuple[tuple[str, str, float, str], ...]
    request_s: tuple[float, ...]  # each answered request's seconds
    claims: tuple[int, int, int] | None  # supported, unsupported, facts missed
    context: str | None  # the context parts the final request carried (GlossResult.context)


def score_case(
    prepared: PreparedCase,
    result: GlossResult | None,
    answers: Sequence[Answer],
    embed: CachedEmbedder,
    judge: ClaimJudge | None,
    first_temperature: float,
    not_done: str,
) -> CaseScore:
    """One case: its final result and its raw answers, judged against its hidden text."""
    case, span, target = prepared.case, prepared.span, prepared.target
    baseline = embed.cosine(f"{name_words(case.qualname)} {case.signature}", target)
    shown_baseline = embed.cosine(prepared.shown, target) if prepared.shown else None
    gloss = result.gloss if result is not None else None
    cosine = embed.cosine(gloss.summary, target) if gloss is not None else None
    gate_false = gate_true = schema_invalid = 0
    rejected: list[tuple[str, str, float, str]] = []
    first_tier_valid: bool | None = None
    for answer in answers:
        if answer.text is None:
            continue  # the backend failed: no answer to judge
        try:
            candidate = parse_gloss(answer.text, answer.finish_reason)
        except GlossRejected:
            schema_invalid += 1
            if first_tier_valid is None and answer.temperature == first_temperature:
                first_tier_valid = False
            continue
        if first_tier_valid is None and answer.temperature == first_temperature:
            first_tier_valid = True
        try:
            check_quality(candidate, span)
        except GlossRejected as rejection:
            their = embed.cosine(candidate.summary, target)
            rejected.append((rejection.reason, candidate.summary, their, rejection.detail))
            if their > baseline:
                gate_false += 1
            else:
                gate_true += 1
    if result is None:
        failure: str | None = not_done
    else:
        failure = result.failure if gloss is None else None
    return CaseScore(
        id=case.id,
        language=case.language,
        qualname=case.qualname,
        baseline=baseline,
        shown_baseline=shown_baseline,
        summary=gloss.summary if gloss is not None else None,
        cosine=cosine,
        beats=cosine is not None and cosine > baseline,
        failure=failure,
        escalated=bool(result is not None and result.escalations),
        first_tier_schema_valid=bool(first_tier_valid),
        gate_false=gate_false,
        gate_true=gate_true,
        schema_invalid=schema_invalid,
        rejected=tuple(rejected),
        request_s=tuple(a.seconds for a in answers if a.text is not None),
        claims=judge(gloss, span) if judge is not None and gloss is not None else None,
        context=result.context if result is not None else None,
    )


def claim_judge() -> ClaimJudge | str:
    """`judge_claims(gloss, facts_of(span))` as (supported, unsupported, missed) counts,
    or why it cannot be had (the modules are built by another stage of issue 13)."""
    try:
        gate_facts: Any = importlib.import_module("enrich_core.llm.gate_facts")
        code_facts: Any = importlib.import_module("enrich_core.source.code_facts")
        judge_claims = gate_facts.judge_claims
        facts_of = code_facts.facts_of
    except (ImportError, AttributeError):
        return CLAIMS_NOT_BUILT

    def judge(gloss: Gloss, span: Span) -> tuple[int, int, int]:
        tally = judge_claims(gloss, facts_of(span), span.language)
        return (
            _count(tally.supported),
            _count(tally.unsupported),
            _count(tally.missed),
        )

    return judge


def _count(value: Any) -> int:
    return value if isinstance(value, int) else len(value)


@dataclass(frozen=True, slots=True)
class Scores:
    """One model (or the baseline) over a set of cases."""

    cases: int
    shown: int
    mean_cosine: float | None  # over shown summaries
    beats: int  # shown summaries above their baseline; failures are losses
    gate_false: int
    gate_true: int
    schema_invalid: int
    first_tier_schema_valid: int
    escalated: int
    s_per_request: float | None
    claims: tuple[int, int, int] | None
    claims_note: str | None = None  # why claims are None
    s_per_gloss: float | None = None  # the run's wall time over every gloss it wrote
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "shown": self.shown,
            "shown_share": _share(self.shown, self.cases),
            "mean_cosine": _round(self.mean_cosine),
            "beats_baseline": self.beats,
            "beats_baseline_share": _share(self.beats, self.cases),
            "gate_false_rejections": self.gate_false,
            "gate_true_rejections": self.gate_true,
            "schema_invalid_answers": self.schema_invalid,
            "first_tier_schema_valid_share": _share(self.first_tier_schema_valid, self.cases),
            "escalation_rate": _share(self.escalated, self.cases),
            "s_per_gloss": _round(self.s_per_gloss),
            "s_per_request": _round(self.s_per_request),
            "claims": (
                dict(zip(("supported", "unsupported", "facts_missed"), self.claims, strict=True))
                if self.claims is not None
                else self.claims_note
            ),
            **self.extra,
        }


def summarize(
    scores: Iterable[CaseScore], claims_note: str | None, s_per_gloss: float | None = None
) -> Scores:
    scores = list(scores)
    cosines = [s.cosine for s in scores if s.cosine is not None]
    seconds = [t for s in scores for t in s.request_s]
    judged = [s.claims for s in scores if s.claims is not None]
    claims = (
        (sum(c[0] for c in judged), sum(c[1] for c in judged), sum(c[2] for c in judged))
        if claims_note is None
        else None
    )
    return Scores(
        cases=len(scores),
        shown=len(cosines),
        mean_cosine=sum(cosines) / len(cosines) if cosines else None,
        beats=sum(s.beats for s in scores),
        gate_false=sum(s.gate_false for s in scores),
        gate_true=sum(s.gate_true for s in scores),
        schema_invalid=sum(s.schema_invalid for s in scores),
        first_tier_schema_valid=sum(s.first_tier_schema_valid for s in scores),
        escalated=sum(s.escalated for s in scores),
        s_per_request=sum(seconds) / len(seconds) if seconds else None,
        claims=claims,
        claims_note=claims_note,
        s_per_gloss=s_per_gloss,
    )


def baseline_scores(scores: Sequence[CaseScore], shown_sentence: bool = False) -> Scores:
    """The baseline's row: its mean cosine over every case (it always "answers")."""
    values = [s.shown_baseline if shown_sentence else s.baseline for s in scores]
    present = [v for v in values if v is not None]
    return Scores(
        cases=len(scores),
        shown=len(present),
        mean_cosine=sum(present) / len(present) if present else None,
        beats=0,
        gate_false=0,
        gate_true=0,
        schema_invalid=0,
        first_tier_schema_valid=0,
        escalated=0,
        s_per_request=None,
        claims=None,
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
