"""From a span to a validated gloss: first tier by shape, retries, spreading, escalation.

The span's shape picks its first tier (`routing`); a span too big for every
context is sent as a trimmed view, and the gloss says so. Within a tier the
backends are ordered by expected wait (free slots, then measured latency), so
two hosts serving one tier both stay busy; the rest are the failover order.
Transport failures (refused, timeout, 429, 5xx) are retried with exponential
backoff and jitter (honouring Retry-After), then the next backend is tried. An
answer that breaks the schema or fails the quality gate escalates to the next
tier, with a named reason. The router never produces gloss text itself:
`GlossResult.gloss` is a model's answer or None.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from enrich_core.config import TierConfig
from enrich_core.llm.backend import Backend, BackendError, CompletionRequest, ErrorKind
from enrich_core.llm.breaker import Breaker
from enrich_core.llm.first_tier import choose_route, estimate_tokens
from enrich_core.llm.gate import check_quality
from enrich_core.llm.outbound import build_prompt, outbound_span
from enrich_core.records.gloss import GLOSS_SCHEMA, Gloss, GlossRejected, parse_gloss
from enrich_core.records.result import GlossResult, RequestRecord
from enrich_core.records.span import Span
from enrich_core.source.languages import language_named

MAX_BACKOFF_S = 30.0
# A host answering at all (even "model missing") is reachable: these kinds do
# not count against its breaker.
_HOST_FAILURES = frozenset({ErrorKind.REFUSED, ErrorKind.TIMEOUT, ErrorKind.SERVER_ERROR})
# Weight of the newest latency sample in a host's moving average.
_EWMA_ALPHA = 0.3


@dataclass
class _Tally:
    attempts: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    estimated: bool = False
    escalations: list[str] = field(default_factory=list)
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (tier, why it gave nothing)
    rejections: list[str] = field(default_factory=list)
    requests: list[RequestRecord] = field(default_factory=list)


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
        self.breakers = dict(breakers or {})
        for name, backend in backends.items():
            if name not in self.breakers:
                self.breakers[name] = Breaker(
                    backend.config.breaker_threshold, backend.config.breaker_cooldown_s
                )
        self.latency_ms: dict[str, float] = {}  # moving average per backend
        self._rng = rng or random.Random()
        self._sleep = sleep

    async def gloss(self, span: Span, start_tier: int = 0) -> GlossResult:
        """`start_tier`: the user asked for a bigger model than the span's shape calls for."""
        started = time.monotonic()
        # Every byte sent below comes from this redacted record, trimmed views too.
        outbound = outbound_span(span)
        overhead = estimate_tokens(str(build_prompt(outbound, "").messages))
        spec = language_named(span.language)
        route = choose_route(
            self.tiers, outbound.code, overhead, spec.line_comment if spec else "#"
        )
        if start_tier > route.tier_index:
            asked = f"escalated by the user to {self.tiers[start_tier].name}"
            route = dataclasses.replace(route, tier_index=start_tier, reason=asked)
        prompt = build_prompt(outbound, route.code)
        tally = _Tally()

        def result(gloss: Gloss | None, **found: str | None) -> GlossResult:
            return GlossResult(
                content_hash=span.content_hash,
                gloss=gloss,
                tokens_in=tally.tokens_in,
                tokens_out=tally.tokens_out,
                tokens_estimated=tally.estimated,
                duration_ms=(time.monotonic() - started) * 1000.0,
                attempts=tally.attempts,
                escalations=tuple(tally.escalations),
                first_tier=self.tiers[route.tier_index].name,
                route=route.reason,
                trimmed=route.trimmed,
                rejections=tuple(tally.rejections),
                requests=tuple(tally.requests),
                **found,
            )

        for tier in self.tiers[route.tier_index :]:
            request = CompletionRequest(
                model=tier.model,
                messages=prompt.as_list(),
                schema=GLOSS_SCHEMA,
                max_tokens=tier.max_tokens,
                temperature=tier.temperature,
                context_tokens=tier.context_tokens,
            )
            errors: list[str] = []
            for name in self._by_expected_wait(tier.backends):
                outcome = await self._try_backend(name, tier, request, tally, errors)
                if outcome is None:
                    continue  # transport trouble: fail over to the tier's next backend
                text, finish_reason = outcome
                try:
                    gloss = parse_gloss(text, finish_reason)
                    check_quality(gloss, span)
                except GlossRejected as rejected:
                    tally.rejections.append(rejected.reason)
                    tally.escalations.append(f"{tier.name}: {rejected}")
                    tally.reasons.append((tier.name, f"model answer rejected: {rejected}"))
                    break  # the model answered badly: escalate to the next tier
                return result(gloss, model=tier.model, tier=tier.name, backend=name)
            else:
                reason = "; ".join(dict.fromkeys(errors))
                tally.escalations.append(f"{tier.name}: {reason}")
                tally.reasons.append((tier.name, reason))
        return result(None, failure=_failure_text(tally.reasons))

    def _by_expected_wait(self, names: Sequence[str]) -> list[str]:
        """Backends with a free slot first, fastest first; then by how long a slot takes.

        Configured order breaks ties, so a tier with one backend, or idle equal
        hosts, behaves exactly as configured.
        """

        def expected_wait(item: tuple[int, str]) -> tuple[float, float, int]:
            order, name = item
            backend = self.backends[name]
            latency = self.latency_ms.get(name, 0.0)
            cap = max(1, backend.config.max_concurrency)
            queued = backend.in_flight - cap + 1  # > 0: waits for that many completions
            return (max(0, queued) * latency / cap, latency, order)

        return [name for _, name in sorted(enumerate(names), key=expected_wait)]

    async def _try_backend(
        self,
        name: str,
        tier: TierConfig,
        request: CompletionRequest,
        tally: _Tally,
        errors: list[str],
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
            sent = time.monotonic()
            try:
                completion = await backend.complete(request)
            except BackendError as exc:
                ms = (time.monotonic() - sent) * 1000.0
                tally.requests.append(
                    RequestRecord(name, tier.name, tier.model, False, exc.kind.name.lower(), ms,
                                  0, 0, False)
                )  # fmt: skip
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
            ms = (time.monotonic() - sent) * 1000.0
            breaker.record_success()
            old = self.latency_ms.get(name)
            self.latency_ms[name] = ms if old is None else old + _EWMA_ALPHA * (ms - old)
            estimated = completion.tokens_in is None or completion.tokens_out is None
            tokens_in = completion.tokens_in or estimate_tokens(str(request.messages))
            tokens_out = completion.tokens_out or estimate_tokens(completion.text)
            tally.estimated |= estimated
            tally.tokens_in += tokens_in
            tally.tokens_out += tokens_out
            tally.requests.append(
                RequestRecord(name, tier.name, tier.model, True, None, ms, tokens_in, tokens_out,
                              estimated)
            )  # fmt: skip
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
