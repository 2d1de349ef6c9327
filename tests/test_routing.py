"""First tier from a span's shape; a trimmed, marked view when no context can hold it."""

from __future__ import annotations

from enrich_core.config import TierConfig
from enrich_core.llm.first_tier import choose_route, estimate_tokens, measure, trim

SMALL = TierConfig("small", "s", ("b",), max_tokens=100, context_tokens=2048, max_span_lines=30)
LARGE = TierConfig("large", "l", ("b",), max_tokens=100, context_tokens=4096)


def function(lines: int, width: int = 20) -> str:
    body = "".join(f"    value_{i} = compute({'x' * width})\n" for i in range(lines))
    return f"def f(x):\n{body}    return x\n"


def test_a_small_span_starts_at_the_first_tier() -> None:
    route = choose_route((SMALL, LARGE), function(5), overhead_tokens=200)
    assert route.tier_index == 0 and route.trimmed is None


def test_limits_move_a_span_up() -> None:
    route = choose_route((SMALL, LARGE), function(40), overhead_tokens=200)
    assert route.tier_index == 1
    assert "small: 42 lines > 30" in route.reason


def test_nesting_and_calls_are_measured() -> None:
    code = "def f(a):\n    if a:\n        for x in a:\n            g(x)\n            h(x)\n"
    shape = measure(code, 0)
    assert shape.nesting == 3 and shape.calls == 2 and shape.lines == 5
    deep = TierConfig("d", "m", ("b",), max_nesting=2)
    assert choose_route((deep, LARGE), code, 0).tier_index == 1


def test_a_span_too_big_for_every_context_is_trimmed_and_says_so() -> None:
    code = function(2000)
    route = choose_route((SMALL, LARGE), code, overhead_tokens=200)
    assert route.tier_index == 1
    assert route.trimmed is not None and route.trimmed.endswith("of 2002 lines")
    assert "lines omitted by Gloss" in route.code
    assert route.code.startswith("def f(x):")
    assert route.code.rstrip().endswith("return x")
    assert estimate_tokens(route.code) + 200 + LARGE.max_tokens <= LARGE.context_tokens


def test_trim_keeps_short_code_whole() -> None:
    code = function(3)
    assert trim(code, 10_000) == (code, 5, 5)
