"""From a span to a validated gloss: tiers cheapest first, retries, failover, escalation.

For each tier in order, its backends are tried in their configured order.
Transport failures (refused, timeout, 429, 5xx) are retried with exponential
backoff and jitter (honouring Retry-After), then the tier's next backend is
tried; an answer that is not a valid gloss escalates to the next tier. The
result says which model wrote the gloss, or why no model could. The router
never produces gloss text itself: `GlossResult.gloss` is a model's answer or None.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from enrich_core.backends import Backend, BackendError, CompletionRequest, ErrorKind
from enrich_core.breaker import Breaker
from enrich_core.config import TierConfig
from enrich_core.prompt import build_prompt
from enrich_core.schema import GLOSS_SCHEMA, Gloss, GlossRejected, parse_gloss
from enrich_core.spans import Span

MAX_BACKOFF_S = 30.0
# A host answering at all (even "model missing") is reachable: these kinds do
# not count against its breaker.
_HOST_FAILURES = frozenset({ErrorKind.REFUSED, ErrorKind.TIMEOUT, ErrorKind.SERVER_ERROR})


@dataclass(frozen=True, slots=True)
class GlossResult:
    content_hash: str
    gloss: Gloss | None
    model: str | None = None
    tier: str | None = None
    backend: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_estimated: bool = False
    duration_ms: float = 0.0
    attempts: int = 0
    escalations: tuple[str, ...] = ()
    failure: str | None = None


@dataclass
class _Tally:
    attempts: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    estimated: bool = False
    escalations: list[str] = field(default_factory=list)
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (tier, why it gave nothing)


class Router:
    def __init__(
        self,
        tiers: Sequence[TierConfig],
        backends: Mapping[str, Backend],
        *,
        breakers: Mapping[str, Breaker] | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.tiers = tuple(tiers)
        self.backends = backends
        self.breakers = dict(breakers) if breakers else {name: Breaker() for name in backends}
        self._rng = rng or random.Random()
        self._sleep = sleep

    async def gloss(self, span: Span) -> GlossResult:
        started = time.monotonic()
        prompt = build_prompt(span)
        tally = _Tally()
        for tier in self.tiers:
            request = CompletionRequest(
                model=tier.model,
                messages=prompt.as_list(),
                schema=GLOSS_SCHEMA,
                max_tokens=tier.max_tokens,
                temperature=tier.temperature,
                context_tokens=tier.context_tokens,
            )
            errors: list[str] = []
            for name in tier.backends:
                outcome = await self._try_backend(name, request, tally, errors)
                if outcome is None:
                    continue  # transport trouble: fail over to the tier's next backend
                text, finish_reason = outcome
                try:
                    gloss = parse_gloss(text, finish_reason)
                except GlossRejected as rejected:
                    tally.escalations.append(f"{tier.name}: {rejected}")
                    tally.reasons.append((tier.name, f"model answer rejected: {rejected}"))
                    break  # the model answered badly: escalate to the next tier
                return GlossResult(
                    content_hash=span.content_hash,
                    gloss=gloss,
                    model=tier.model,
                    tier=tier.name,
                    backend=name,
                    tokens_in=tally.tokens_in,
                    tokens_out=tally.tokens_out,
                    tokens_estimated=tally.estimated,
                    duration_ms=(time.monotonic() - started) * 1000.0,
                    attempts=tally.attempts,
                    escalations=tuple(tally.escalations),
                )
            else:
                reason = "; ".join(dict.fromkeys(errors))
                tally.escalations.append(f"{tier.name}: {reason}")
                tally.reasons.append((tier.name, reason))
        return GlossResult(
            content_hash=span.content_hash,
            gloss=None,
            tokens_in=tally.tokens_in,
            tokens_out=tally.tokens_out,
            tokens_estimated=tally.estimated,
            duration_ms=(time.monotonic() - started) * 1000.0,
            attempts=tally.attempts,
            escalations=tuple(tally.escalations),
            failure=_failure_text(tally.reasons),
        )

    async def _try_backend(
        self, name: str, request: CompletionRequest, tally: _Tally, errors: list[str]
    ) -> tuple[str, str | None] | None:
        """One backend with retries: the answer's (text, finish_reason), or None."""
        backend = self.backends[name]
        breaker = self.breakers[name]
        retries = backend.config.max_retries
        for attempt in range(retries + 1):
            if not breaker.allow():
                # The host failed repeatedly and is resting; its last error is the reason.
                errors.append(breaker.last_error or f"backend {name!r} is resting after failures")
                return None
            tally.attempts += 1
            try:
                completion = await backend.complete(request)
            except BackendError as exc:
                backend.errors += 1
                if exc.kind in _HOST_FAILURES:
                    breaker.record_failure(str(exc))
                else:
                    breaker.record_success()
                if exc.retryable and attempt < retries:
                    await self._sleep(self._backoff(backend.config.retry_base_s, attempt, exc))
                    continue
                errors.append(str(exc))
                return None
            breaker.record_success()
            if completion.tokens_in is None or completion.tokens_out is None:
                tally.estimated = True
            tally.tokens_in += completion.tokens_in or max(1, len(str(request.messages)) // 4)
            tally.tokens_out += completion.tokens_out or max(1, len(completion.text) // 4)
            return completion.text, completion.finish_reason
        return None

    def _backoff(self, base_s: float, attempt: int, exc: BackendError) -> float:
        delay: float = min(MAX_BACKOFF_S, base_s * (2**attempt)) * self._rng.uniform(0.5, 1.5)
        if exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, MAX_BACKOFF_S))
        return delay


def _failure_text(reasons: list[tuple[str, str]]) -> str:
    """One line per distinct reason, naming the tiers it stopped: stable, so it groups."""
    if not reasons:
        return "no tier configured"
    by_reason: dict[str, list[str]] = {}
    for tier, reason in reasons:
        by_reason.setdefault(reason, []).append(tier)
    return "; ".join(f"{', '.join(tiers)}: {reason}" for reason, tiers in by_reason.items())
