"""Which tier a span starts at, and the view of its code that fits that tier's context.

A span's shape — lines, nesting depth, how many names it calls, an estimate of
its prompt's tokens — is measured once. It starts at the first tier whose
configured limits it fits (`max_span_lines`, `max_nesting`, `max_calls`, and
prompt + `max_tokens` within `context_tokens`). A span too big for every
context is glossed by the tier with the largest context from a trimmed view:
its head and tail with a marked gap, and the gloss records that it was
trimmed. Code is never cut silently.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass

from enrich_core.config import TierConfig

# Code and English both tokenize at roughly 3-4 characters a token; 3.2 errs
# toward overestimating, which only moves a span up a tier.
CHARS_PER_TOKEN = 3.2
# A name followed by "(" that is not being defined (`_DEFINING` just before it):
# a call (or a class instantiation). The definition keywords are those of the
# languages Gloss reads (Python's def/class, JavaScript's function, Go's func,
# Rust's fn); checked after the match, as five lookbehinds tried at every
# position of the code cost twice the time.
_NAME_AND_PAREN = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_DEFINING = ("def ", "class ", "function ", "func ", "fn ")
_LONGEST_DEFINING = max(len(k) for k in _DEFINING)
# Words written like a call that are not one: Python's keywords, and the
# C-family control keywords and operators that take parentheses.
_NON_CALLS = frozenset(keyword.kwlist) | {
    "print",
    "switch",
    "catch",
    "foreach",
    "elseif",
    "sizeof",
    "typeof",
    "alignof",
    "decltype",
    "synchronized",
}


@dataclass(frozen=True, slots=True)
class SpanShape:
    lines: int
    nesting: int
    calls: int
    prompt_tokens: int


@dataclass(frozen=True, slots=True)
class Route:
    tier_index: int
    code: str  # the span's code as sent: whole, or a trimmed view
    trimmed: str | None  # e.g. "kept 180 of 900 lines", None when whole
    reason: str  # why this tier first, for the gloss's metadata


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


def measure(code: str, overhead_tokens: int) -> SpanShape:
    lines = code.splitlines() or [""]
    indents = [len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()]
    base = indents[0] if indents else 0
    steps = sorted({i - base for i in indents if i > base})
    # Nesting as distinct indentation levels below the definition line.
    nesting = len(steps)
    called = {
        m.group(1)
        for m in _NAME_AND_PAREN.finditer(code)
        if not code[max(0, m.start() - _LONGEST_DEFINING) : m.start()].endswith(_DEFINING)
    }
    calls = len(called - _NON_CALLS)
    return SpanShape(len(lines), nesting, calls, overhead_tokens + estimate_tokens(code))


def _fits(tier: TierConfig, shape: SpanShape) -> str | None:
    """None if the span fits the tier, else why not."""
    if tier.max_span_lines and shape.lines > tier.max_span_lines:
        return f"{shape.lines} lines > {tier.max_span_lines}"
    if tier.max_nesting and shape.nesting > tier.max_nesting:
        return f"nesting {shape.nesting} > {tier.max_nesting}"
    if tier.max_calls and shape.calls > tier.max_calls:
        return f"{shape.calls} calls > {tier.max_calls}"
    if shape.prompt_tokens + tier.max_tokens > tier.context_tokens:
        return (
            f"~{shape.prompt_tokens} prompt tokens + {tier.max_tokens} > "
            f"context {tier.context_tokens}"
        )
    return None


def choose_route(
    tiers: Sequence[TierConfig], code: str, overhead_tokens: int, line_comment: str = "#"
) -> Route:
    """The first tier the span fits, with its code whole or trimmed; `line_comment`
    is the span's language's, so a trimmed view's gap marker is a comment in it."""
    shape = measure(code, overhead_tokens)
    skipped: list[str] = []
    for i, tier in enumerate(tiers):
        why_not = _fits(tier, shape)
        if why_not is None:
            reason = "; ".join(skipped) if skipped else "fits the first tier"
            return Route(i, code, None, reason)
        skipped.append(f"{tier.name}: {why_not}")
    # Nothing fits whole. Past the shape limits, the biggest context still takes it
    # whole if the tokens fit; otherwise a trimmed view.
    biggest = max(range(len(tiers)), key=lambda i: tiers[i].context_tokens)
    tier = tiers[biggest]
    budget = tier.context_tokens - tier.max_tokens - overhead_tokens
    if shape.prompt_tokens - overhead_tokens <= budget:
        return Route(biggest, code, None, "; ".join(skipped))
    view, kept, total = trim(code, max(budget, 64), line_comment)
    return Route(biggest, view, f"kept {kept} of {total} lines", "; ".join(skipped))


def trim(code: str, token_budget: int, line_comment: str = "#") -> tuple[str, int, int]:
    """Head and tail of the code within the budget, the gap marked. (view, kept, total)."""
    lines = code.splitlines()
    total = len(lines)
    marker_tokens = 24
    budget_chars = int((token_budget - marker_tokens) * CHARS_PER_TOKEN)
    head: list[str] = []
    tail: list[str] = []
    used = 0
    # The head (signature, docstring, setup) matters most: two thirds of the room.
    head_room = budget_chars * 2 // 3
    for line in lines:
        if used + len(line) + 1 > head_room:
            break
        head.append(line)
        used += len(line) + 1
    for line in reversed(lines[len(head) :]):
        if used + len(line) + 1 > budget_chars:
            break
        tail.append(line)
        used += len(line) + 1
    tail.reverse()
    omitted = total - len(head) - len(tail)
    if omitted <= 0:
        return code, total, total
    indent = " " * (len(lines[len(head)]) - len(lines[len(head)].lstrip()))
    note = f"... {omitted} lines omitted by Gloss to fit the model's context ..."
    gap = f"{indent}{line_comment} {note}"
    return "\n".join([*head, gap, *tail]), len(head) + len(tail), total
