"""Which context parts one tier's request carries: those turned on that fit its budget.

A tier's budget for context is what its context window leaves once the answer
(`max_tokens`) and the request without context (header lines, instructions,
code) are counted: `context_tokens - max_tokens - tokens(prompt without
context)`. The parts the configuration turns on (`[prompt] context`) and the
span has are all sent when they fit; otherwise whole parts are dropped in
`CONTEXT_PARTS` order (imports first, the docstring last) until the rest fits.
Tokens are estimated as routing estimates them (`first_tier.estimate_tokens`),
over the request as it would be sent, so a Python docstring moved out of the
code costs only its section's header.

The route (first tier) is chosen on the code alone; the context is fitted when
each tier's request is built, so a bigger tier escalated to may carry more.
What was sent, and what the budget dropped, is recorded with the gloss
(`GlossResult.context`), in a short stable form:
"docstring, outline, callees 3, imports 5; dropped for the budget: imports".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from enrich_core.config import TierConfig
from enrich_core.llm.first_tier import estimate_tokens
from enrich_core.llm.outbound import OutboundSpan, Prompt, build_prompt
from enrich_core.records.context import CONTEXT_PARTS

# Recorded when a request carried no context part and the budget dropped none.
NO_CONTEXT_RECORD = "none"


@dataclass(frozen=True, slots=True)
class FittedContext:
    prompt: Prompt  # the request with the parts sent
    sent: tuple[str, ...]  # in priority order (last dropped first)
    dropped: tuple[str, ...]  # parts the span had, turned on, that did not fit
    record: str  # for GlossResult.context


def prompt_tokens(prompt: Prompt) -> int:
    """The estimate routing makes of a request's tokens."""
    return estimate_tokens(str(prompt.messages))


def fit_context(
    span: OutboundSpan,
    code: str,
    tier: TierConfig,
    wanted: Sequence[str] = CONTEXT_PARTS,
) -> FittedContext:
    """The request for `span` (its code view `code`) to `tier`, with as many of the
    `wanted` context parts as its budget holds, dropped whole in CONTEXT_PARTS order."""
    limit = tier.context_tokens - tier.max_tokens
    candidates = [part for part in CONTEXT_PARTS if part in wanted and span.has(part)]
    dropped: list[str] = []
    while True:
        prompt = build_prompt(span, code, candidates)
        if not candidates or prompt_tokens(prompt) <= limit:
            break
        dropped.append(candidates.pop(0))
    sent = tuple(reversed(candidates))
    return FittedContext(prompt, sent, tuple(dropped), context_record(span, sent, dropped))


def context_record(span: OutboundSpan, sent: Sequence[str], dropped: Sequence[str]) -> str:
    """What a request carried: the parts in priority order, counted where they are lists."""
    counts = {"imports": len(span.imports), "callees": len(span.callees)}
    shown = [f"{part} {counts[part]}" if part in counts else part for part in sent]
    record = ", ".join(shown) or NO_CONTEXT_RECORD
    if dropped:
        record += f"; dropped for the budget: {', '.join(dropped)}"
    return record
