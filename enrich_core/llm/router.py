"""From a span to a validated gloss: first tier by shape, retries, spreading, escalation.

The span's shape picks its first tier (`routing`); a span too big for every
context is sent as a trimmed view, and the gloss says so. Within a tier the
backends are ordered by expected wait (free slots, then measured latency), so
two hosts serving one tier both stay busy; the rest are the failover order.
An answer that breaks the schema or fails the quality gate escalates to the
next tier, with a named reason. The router never produces gloss text itself:
`GlossResult.gloss` is a model's answer or None.

Host trouble, and what a span does about it:
- A retryable failure (refused, timeout, 429, 5xx, a broken answer) is retried
  on the same backend after exponential backoff with jitter (honouring
  Retry-After, capped), at most `max_retries` times; meanwhile, and after,
  the tier's other backends take the request at once (failover is immediate).
- A backend whose breaker rests is waited for, not failed: the span sleeps
  until the probe falls due or the breaker changes (one probe goes out, the
  others wait for its outcome). Waiting is no attempt. So a flaky or briefly
  absent host ends with every span glossed.
- A span fails only on what a backend really answered: a final error (model
  missing, request rejected, a broken answer) or its own attempts spent, on
  every backend of every tier it could use, or on a host the breaker declared
  down (its probes failed `breaker_probes` times in a row): that fails at once,
  naming the backend, its URL and the last error. A failure is the span's own
  when the host was otherwise answering; one in a run of failures, or one that
  rests the host, is the host's and costs the span no attempt (see `_spans_own`).
- Escalation on host trouble: a tier whose backends are all final for the span
  (down, or attempts spent) passes the span to the next tier at once. A tier
  that merely rests is waited for, not skipped: a rest lasts seconds, and the
  tier was chosen for the span's shape and cost, so a brief blip of the cheap
  host must not send a backlog to the expensive tier. A host that stays away
  is declared down within `breaker_probes` rests, and then escalation happens.
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
from enrich_core.llm.breaker import (
    RETRY_AFTER_CAP_S,
    Admission,
    Breaker,
    BreakerState,
    wait_for_change,
)
from enrich_core.llm.first_tier import choose_route, estimate_tokens
from enrich_core.llm.gate import check_quality
from enrich_core.llm.outbound import build_prompt, outbound_span
from enrich_core.llm.prompt_context import fit_context
from enrich_core.records.attempt import AttemptEvent, AttemptListener, AttemptPhase
from enrich_core.records.context import CONTEXT_PARTS, NO_CONTEXT, SpanContext
from enrich_core.records.facts import CodeFacts
from enrich_core.records.gloss import Gloss, GlossRejected, gloss_schema, parse_gloss
from enrich_core.records.result import GlossResult, RequestRecord
from enrich_core.records.span import Span
from enrich_core.source.languages import language_named

MAX_BACKOFF_S = RETRY_AFTER_CAP_S
# What counts against a host's breaker: it did not answer, or not in HTTP/JSON
# terms (a broken, cut or oversized envelope; the model's own text is judged
# later, by the schema and the gate). "Model missing" or a rejected request is
# a real answer from a reachable host: those close the breaker.
_HOST_FAILURES = frozenset(
    {
        ErrorKind.REFUSED,
        ErrorKind.TIMEOUT,
        ErrorKind.SERVER_ERROR,
        ErrorKind.RATE_LIMITED,
        ErrorKind.BAD_RESPONSE,
    }
)
# Retryable failures that a request itself may cause (a prompt that crashes or
# stalls the server); refused connections and 429s never are.
_SPAN_FAILURES = frozenset({ErrorKind.TIMEOUT, ErrorKind.SERVER_ERROR})
# Failures that are the host's, not the span's, still end a span's tries on a
# backend after this many times its attempts: a host failing in bursts that
# always catch the same span cannot hold it for ever.
HOST_TROUBLE_TRIES = 4
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
        context_parts: Sequence[str] = CONTEXT_PARTS,
        read_facts: Callable[[Span], CodeFacts] | None = None,
        on_attempt: AttemptListener | None = None,
    ) -> None:
        self.tiers = tuple(tiers)
        # Told each request out and back, and each wait (records/attempt.py): a progress
        # display's "trying tier X"; it must not block.
        self.on_attempt = on_attempt
        # `source.code_facts.facts_of`, given by the engine (stages do not import each
        # other): each result carries the span's facts, and the gate checks against them.
        self.read_facts = read_facts
        # `[prompt] context`: the context parts a request may carry, budget allowing.
        self.context_parts = tuple(context_parts)
        self.backends = backends
        self.breakers = dict(breakers or {})
        for name, backend in backends.items():
            if name not in self.breakers:
                config = backend.config
                self.breakers[name] = Breaker(
                    config.breaker_threshold, config.breaker_cooldown_s, config.breaker_probes
                )
        self.latency_ms: dict[str, float] = {}  # moving average per backend
        self._rng = rng or random.Random()
        self._sleep = sleep

    async def gloss(
        self, span: Span, start_tier: int = 0, context: SpanContext = NO_CONTEXT
    ) -> GlossResult:
        """`start_tier`: the user asked for a bigger model than the span's shape calls for.
        `context`: what a reader has beside the code; each tier's request carries the
        parts of it that its budget holds (`prompt_context`), recorded with the gloss."""
        started = time.monotonic()
        # Every byte sent below comes from this redacted record, trimmed views too.
        outbound = outbound_span(span, context)
        # The route is chosen on the code alone; context is fitted per tier below.
        overhead = estimate_tokens(str(build_prompt(outbound, "", ()).messages))
        spec = language_named(span.language)
        route = choose_route(
            self.tiers, outbound.code, overhead, spec.line_comment if spec else "#"
        )
        if start_tier > route.tier_index:
            asked = f"escalated by the user to {self.tiers[start_tier].name}"
            route = dataclasses.replace(route, tier_index=start_tier, reason=asked)
        tally = _Tally()
        facts = self.read_facts(span) if self.read_facts is not None else None
        sent_context: str | None = None  # what the last request built carried

        def result(
            gloss: Gloss | None,
            model: str | None = None,
            tier: str | None = None,
            backend: str | None = None,
            failure: str | None = None,
        ) -> GlossResult:
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
                context=sent_context,
                # Read from the code whatever the model said: shown apart from its words.
                facts=facts,
                model=model,
                tier=tier,
                backend=backend,
                failure=failure,
            )

        for index, tier in enumerate(self.tiers[route.tier_index :]):
            fitted = fit_context(outbound, route.code, tier, self.context_parts)
            sent_context = fitted.record
            request = CompletionRequest(
                model=tier.model,
                messages=fitted.prompt.as_list(),
                # Bounds follow the span (its inputs list may hold every parameter), as the
                # prompt's "at most" and parse_gloss's check below do.
                schema=gloss_schema(outbound.parameter_count),
                max_tokens=tier.max_tokens,
                temperature=tier.temperature,
                context_tokens=tier.context_tokens,
                seed=span_seed(span.content_hash),
            )
            told = _AttemptTeller(self.on_attempt, span.content_hash, tier.name, index > 0)
            served = await self._serve_tier(tier, request, tally, told)
            if isinstance(served, list):
                reason = "; ".join(dict.fromkeys(served))
                tally.escalations.append(f"{tier.name}: {reason}")
                tally.reasons.append((tier.name, reason))
                continue  # no backend of this tier can answer: the next tier
            name, text, finish_reason = served
            try:
                gloss = parse_gloss(text, finish_reason, outbound.limits)
                # The file's imports, whether or not `[prompt] context` sent them: a module
                # the answer names must be one the code or its file mentions.
                check_quality(gloss, span, facts, context.imports)
            except GlossRejected as rejected:
                tally.rejections.append(rejected.reason)
                tally.escalations.append(f"{tier.name}: {rejected}")
                tally.reasons.append((tier.name, f"model answer rejected: {rejected}"))
                continue  # the model answered badly: escalate to the next tier
            return result(gloss, model=tier.model, tier=tier.name, backend=name)
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

    async def _serve_tier(
        self,
        tier: TierConfig,
        request: CompletionRequest,
        tally: _Tally,
        told: _AttemptTeller | None = None,
    ) -> tuple[str, str, str | None] | list[str]:
        """(backend, text, finish_reason) of the first answer a backend of this tier gives,
        or why none can: each backend ends with a final error, its attempts spent, or down.

        Backends are tried in expected-wait order; a retryable failure is retried on
        the same backend after a backoff, until its attempts are spent or its
        breaker rests. A resting backend is passed over for the next one that can
        take the request now, and waited for (the wait is no attempt) when none can."""
        names = self._by_expected_wait(tier.backends)
        tries = dict.fromkeys(names, 0)
        attempts = dict.fromkeys(names, 0)  # the failures that were this span's own
        final: dict[str, str] = {}  # backend -> why it has nothing more for this span
        retry_at: dict[str, float] = {}  # backend -> end of this span's backoff on it
        told = told or _AttemptTeller(None, "", tier.name, False)
        while True:
            resting: list[str] = []
            now = time.monotonic()
            chosen: tuple[str, Admission] | None = None
            backoff_s = 0.0
            for name in names:
                if name in final:
                    continue
                if retry_at.get(name, 0.0) > now:
                    backoff_s = retry_at[name] - now  # this backend's turn, after a pause
                    break
                breaker = self.breakers[name]
                admission = breaker.admit()
                if admission is Admission.DOWN:
                    final[name] = self._down_reason(name)
                elif admission is Admission.WAIT:
                    resting.append(name)
                else:
                    chosen = (name, admission)
                    break
            if backoff_s > 0:
                told.waiting()
                await self._sleep(backoff_s)
                continue
            if chosen is not None:
                name, admission = chosen
                told.started(name, retry=any(tries.values()))
                outcome = await self._attempt(name, tier, request, tally, admission)
                told.ended(name, answered=not isinstance(outcome, BackendError))
                if not isinstance(outcome, BackendError):
                    return (name, *outcome)
                tries[name] += 1
                if self._spans_own(name, outcome):
                    attempts[name] += 1
                retries = self.backends[name].config.max_retries
                if (
                    not outcome.retryable
                    or _asks_too_long(outcome)
                    or attempts[name] > retries
                    or tries[name] >= HOST_TROUBLE_TRIES * (retries + 1)
                ):
                    final[name] = str(outcome)
                    if _asks_too_long(outcome):
                        final[name] += (
                            f" (it asks to wait {outcome.retry_after:g} s; Gloss waits at most "
                            f"{RETRY_AFTER_CAP_S:g} s)"
                        )
                else:
                    base_s = self.backends[name].config.retry_base_s
                    # Past the configured schedule the breaker paces a failing host.
                    step = min(tries[name], retries + 1) - 1
                    delay = self._backoff(base_s, step, outcome)
                    retry_at[name] = time.monotonic() + delay
                continue
            if not resting:
                return [final[name] for name in names]
            told.waiting()
            await self._wait_for(resting)

    async def _wait_for(self, names: list[str]) -> None:
        """Until one of these resting backends may take a request: its probe fell due,
        or its breaker changed. No polling: one timer, one future."""
        hints: list[float] = []
        for name in names:
            hint = self.breakers[name].wait_hint()
            if hint is None:  # its probe is out: bounded by the probe's own deadline
                hint = self.backends[name].config.timeout_s
            hints.append(hint)
        delay = min(hints)
        if delay > 0:
            await wait_for_change((self.breakers[name] for name in names), delay)

    def _spans_own(self, name: str, error: BackendError) -> bool:
        """Whether the failure just recorded on this backend counts against the span.

        A refused connection or a 429 says nothing about the request: the host's.
        A failure that follows another one, or that rested the host, is the host's
        trouble too, shared by every span: the span waits for the probe and keeps
        its attempts. Only a timeout or server error of a host otherwise answering
        is the span's own, so a request the host always fails on ends after
        `max_retries`, while a flapping or briefly failing host costs no span its
        gloss. (HOST_TROUBLE_TRIES bounds the rest.)"""
        if error.kind not in _SPAN_FAILURES:
            return False
        breaker = self.breakers[name]
        return breaker.state is BreakerState.CLOSED and breaker.failures_in_a_row <= 1

    def _down_reason(self, name: str) -> str:
        backend = self.backends[name]
        detail = self.breakers[name].down_reason or "probes failed"
        return f"backend {name!r} ({backend.config.url}) is down: {detail}"

    async def _attempt(
        self,
        name: str,
        tier: TierConfig,
        request: CompletionRequest,
        tally: _Tally,
        admission: Admission,
    ) -> tuple[str, str | None] | BackendError:
        """One request: the answer's (text, finish_reason), or the error it ended with."""
        backend = self.backends[name]
        breaker = self.breakers[name]
        probe = admission is Admission.PROBE
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
                breaker.record_failure(
                    f"{exc.kind.value}: {exc.detail}",
                    retry_after=exc.retry_after,
                    unreachable=exc.kind is ErrorKind.REFUSED,
                )
            else:
                breaker.record_success()
            return exc
        except BaseException:
            if probe:
                breaker.abandon_probe()  # cancelled: let another waiter probe
            raise
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

    def _backoff(self, base_s: float, attempt: int, exc: BackendError) -> float:
        delay: float = min(MAX_BACKOFF_S, base_s * (2**attempt)) * self._rng.uniform(0.5, 1.5)
        if exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, MAX_BACKOFF_S))
        return delay


@dataclass(frozen=True, slots=True)
class _AttemptTeller:
    """Tells the router's attempt listener, if any, about one span on one tier."""

    listener: AttemptListener | None
    content_hash: str
    tier: str
    escalated: bool

    def started(self, backend: str, *, retry: bool) -> None:
        self._tell(AttemptPhase.STARTED, backend, retry=retry)

    def ended(self, backend: str, *, answered: bool) -> None:
        self._tell(AttemptPhase.ENDED, backend, answered=answered)

    def waiting(self) -> None:
        self._tell(AttemptPhase.WAITING, None)

    def _tell(
        self,
        phase: AttemptPhase,
        backend: str | None,
        *,
        retry: bool = False,
        answered: bool = False,
    ) -> None:
        if self.listener is not None:
            event = AttemptEvent(
                self.content_hash, phase, self.tier, backend, self.escalated, retry, answered
            )
            self.listener(event)


def span_seed(content_hash: str) -> int:
    """A sampling seed of the span's text: 31 bits of its hash (llama.cpp takes a uint32;
    its all-ones value means "random")."""
    return int(content_hash[:8], 16) & 0x7FFF_FFFF


def _asks_too_long(error: BackendError) -> bool:
    """The host asks for a longer pause (Retry-After) than Gloss waits: not retried."""
    return error.retry_after is not None and error.retry_after > RETRY_AFTER_CAP_S


def _failure_text(reasons: list[tuple[str, str]]) -> str:
    """One line per distinct reason, naming the tiers it stopped: stable, so it groups."""
    if not reasons:
        return "no tier configured"
    by_reason: dict[str, list[str]] = {}
    for tier, reason in reasons:
        by_reason.setdefault(reason, []).append(tier)
    return "; ".join(f"{', '.join(tiers)}: {reason}" for reason, tiers in by_reason.items())
