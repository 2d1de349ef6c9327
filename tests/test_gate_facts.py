"""Claims against the facts read from the code: the gate's ungrounded_side_effect and
ungrounded_raise, the quality bench's judge, and facts on every router result."""

from __future__ import annotations

import textwrap

import pytest

from bench.support.llm_server import Behavior, LLMServer
from enrich_core.config import BackendConfig, TierConfig
from enrich_core.llm.gate import FACT_CHECKS, check_quality
from enrich_core.llm.gate_facts import check_grounded, claimed_kind, judge_claims
from enrich_core.llm.http import OllamaBackend
from enrich_core.llm.router import Router
from enrich_core.records.facts import EffectKind
from enrich_core.records.gloss import Gloss, GlossRejected
from enrich_core.records.span import Span
from enrich_core.source.code_facts import facts_of
from enrich_core.source.spans import extract_spans
from tests.conftest import SMALL

SOURCE = '''\
import json
import logging

log = logging.getLogger(__name__)


def clamp(value, low, high):
    """Limit value to the range [low, high]."""
    if value < low:
        return low
    return min_of(value, high)


def add(a, b):
    total = a + b
    return total


def lookup(table, key):
    return table[key]


def save(path, data):
    with open(path, "w") as f:
        json.dump(data, f)
    log.info("saved %s", path)


def parse(text):
    if not text:
        raise ValueError("empty")
    return int(text)


class Counter:
    def __init__(self):
        self.count = 0

    def bump(self, by):
        self.count += by
        return self.count
'''

GO_SOURCE = """\
package kv

var hits int

func Touch() {
	hits++
}

func Double(n int) int {
	m := n * 2
	return m
}

func First(xs []int) int {
	return xs[0]
}
"""


def spans(source: str = SOURCE, path: str = "m.py") -> dict[str, Span]:
    return {s.qualname: s for s in extract_spans(path, textwrap.dedent(source))}


def answer(**changes: object) -> Gloss:
    fields: dict[str, object] = {
        "summary": "Adds two numbers and returns their total.",
        "inputs": ("a: the first number", "b: the second number"),
        "outputs": ("the sum of a and b",),
        "side_effects": (),
        "pitfalls": (),
        "usage_snippet": "add(1, 2)",
        "tags": ("math",),
    }
    fields.update(changes)
    return Gloss(**fields)  # type: ignore[arg-type]


def rejection(gloss: Gloss, span: Span) -> str | None:
    try:
        check_grounded(gloss, span, facts_of(span))
    except GlossRejected as rejected:
        return rejected.reason
    return None


def test_the_check_is_part_of_the_gate_given_the_facts() -> None:
    assert check_grounded in FACT_CHECKS
    add = spans()["add"]
    bad = answer(side_effects=("writes the total to a file",))
    with pytest.raises(GlossRejected) as info:
        check_quality(bad, add, facts_of(add))
    assert info.value.reason == "ungrounded_side_effect"
    check_quality(bad, add)  # without the facts, nothing to hold it against


@pytest.mark.parametrize(
    "claim",
    [
        "Writes the result to a file on disk",
        "Sends an HTTP request",
        "Logs the sum",
        "Prints the total to stdout",
        "Modifies the global counter",
        "Updates a in place",
        "Reads the environment variable HOME",
        "Runs a shell command",
    ],
)
def test_a_side_effect_claimed_for_a_function_that_touches_nothing_is_rejected(
    claim: str,
) -> None:
    assert rejection(answer(side_effects=(claim,)), spans()["add"]) == "ungrounded_side_effect"


@pytest.mark.parametrize(
    ("name", "side_effects"),
    [
        # Denials claim nothing.
        ("add", ("None",)),
        ("add", ("No side effects.",)),
        ("add", ("Does not modify its arguments",)),
        ("add", ("Pure function: no I/O",)),
        # Words of no effect kind are not judged by this rule.
        ("add", ("Returns a new number",)),
        # A call may do anything: min_of is not known.
        ("clamp", ("Logs when the value is clamped",)),
        # Claims the facts hold.
        ("save", ("Writes data to the file at path", "Logs the path")),
        ("Counter.bump", ("Updates self.count",)),
        ("Counter.__init__", ("Sets count to zero",)),
    ],
)
def test_good_side_effect_answers_pass(name: str, side_effects: tuple[str, ...]) -> None:
    assert rejection(answer(side_effects=side_effects), spans()[name]) is None


def test_a_raise_claimed_for_a_function_with_no_raise_and_no_call_is_rejected() -> None:
    span = spans()["add"]
    for field in ("outputs", "pitfalls"):
        bad = answer(**{field: ("Raises FileNotFoundError if a is missing",)})
        assert rejection(bad, span) == "ungrounded_raise"


@pytest.mark.parametrize(
    ("name", "pitfalls"),
    [
        # Operators raise these with no call in sight: a true claim.
        ("lookup", ("Raises KeyError if key is not in table",)),
        ("add", ("TypeError if a and b cannot be added",)),
        ("add", ("May raise an Exception on bad input",)),
        # Denied, not claimed.
        ("add", ("Never raises OSError",)),
        # A raise or a call in the span: the facts cannot rule it out.
        ("parse", ("Raises ValueError on empty text",)),
        ("clamp", ("Raises OutOfRange if high < low",)),
    ],
)
def test_good_raise_answers_pass(name: str, pitfalls: tuple[str, ...]) -> None:
    assert rejection(answer(pitfalls=pitfalls), spans()[name]) is None


def test_go_bare_assignments_may_be_package_state_and_panics_are_never_ruled_out() -> None:
    go = spans(GO_SOURCE, "kv/kv.go")
    # `hits++` may write a package variable: a claim about it cannot be ruled out.
    assert (
        rejection(answer(side_effects=("Increments the global hits counter",)), go["Touch"]) is None
    )
    # Only locals (`:=`) and no assignment: nothing outside is written.
    assert rejection(answer(side_effects=("Writes n to a file",)), go["Double"]) == (
        "ungrounded_side_effect"
    )
    # Any index may panic: a claimed raise in Go is never checked.
    assert rejection(answer(pitfalls=("Panics with IndexError-like failure",)), go["First"]) is None


def test_a_span_that_does_not_parse_clean_is_not_judged() -> None:
    (span,) = extract_spans("m.py", "def add(a, b):\n    return a + (b\n")
    assert not facts_of(span).complete
    assert rejection(answer(side_effects=("Writes to a file",)), span) is None


def test_claimed_kinds_by_their_words() -> None:
    assert claimed_kind("Reads the config file") is EffectKind.FILE
    assert claimed_kind("Makes an HTTP GET to the URL") is EffectKind.NETWORK
    assert claimed_kind("Spawns a child process") is EffectKind.SUBPROCESS
    assert claimed_kind("Sets the DEBUG environment variable") is EffectKind.ENVIRONMENT
    assert claimed_kind("Prints a warning") is EffectKind.LOGGING
    assert claimed_kind("Updates the module-level cache") is EffectKind.GLOBAL
    assert claimed_kind("Appends to the list") is EffectKind.ARGUMENT
    assert claimed_kind("Doesn't write anything") is None
    assert claimed_kind("Returns the sum") is None


def test_judge_counts_supported_unsupported_and_missed() -> None:
    span = spans()["save"]
    facts = facts_of(span)
    gloss = answer(
        inputs=("path: where to write", "data: what to write", "mode: the open mode"),
        side_effects=("Writes data to a JSON file", "Sends the data over the network"),
        pitfalls=("Raises FileNotFoundError if the directory does not exist",),
        outputs=("None",),
    )
    tally = judge_claims(gloss, facts, "python")
    assert [(c.field, c.topic) for c in tally.supported_claims] == [
        ("side_effects", "file"),
        ("pitfalls", "FileNotFoundError"),  # a subclass of OSError, which open( raises
        ("inputs", "path"),
        ("inputs", "data"),
    ]
    assert [(c.field, c.topic) for c in tally.unsupported_claims] == [
        ("side_effects", "network"),
        ("inputs", "mode"),
    ]
    assert tally.missed_facts == ("effect logging: log.info(",)
    assert (tally.supported, tally.unsupported, tally.missed) == (4, 2, 1)


def test_judge_of_raises_mutations_and_implicit_exceptions() -> None:
    parse = facts_of(spans()["parse"])
    tally = judge_claims(answer(inputs=(), pitfalls=("Raises ValueError on bad text",)), parse)
    assert [c.topic for c in tally.supported_claims] == ["ValueError"]
    assert tally.missed_facts == ("input text",)
    # A constructor setting its fields: no effect listed, but a write supports the claim.
    init = facts_of(spans()["Counter.__init__"])
    assert init.effects == ()
    tally = judge_claims(answer(inputs=(), side_effects=("Sets count to 0",)), init)
    assert tally.supported == 1 and tally.unsupported == 0
    # KeyError from `table[key]` is no fact, and not held against the answer with the
    # language known; without it, it is unsupported.
    lookup = facts_of(spans()["lookup"])
    claim = answer(inputs=(), pitfalls=("KeyError when key is missing",))
    assert judge_claims(claim, lookup, "python").unsupported == 0
    assert judge_claims(claim, lookup).unsupported == 1


async def test_every_router_result_carries_the_facts_answered_or_not(llm: LLMServer) -> None:
    span = spans()["save"]
    tier = TierConfig("small", SMALL, ("test",), max_tokens=100, context_tokens=4096)
    backend = OllamaBackend(BackendConfig(name="test", kind="ollama", url=llm.url))
    try:
        router = Router((tier,), {"test": backend}, read_facts=facts_of)
        glossed = await router.gloss(span)
        llm.set_behavior(Behavior(mode="invalid_schema"), model=SMALL)
        failed = await router.gloss(span)
    finally:
        await backend.aclose()
    assert glossed.gloss is not None and failed.gloss is None
    for result in (glossed, failed):
        assert result.facts == facts_of(span)
        assert result.facts is not None
        assert {e.kind for e in result.facts.effects} == {EffectKind.FILE, EffectKind.LOGGING}


@pytest.mark.parametrize(
    ("path", "source", "name"),
    [
        # Ruby calls a method by its bare name; a C macro runs code without parentheses.
        ("notes.rb", "def note\n  log\nend\n", "note"),
        ("say.c", '#define SAY puts("x")\nvoid say(void) { SAY; }\n', "say"),
    ],
)
def test_where_a_call_may_look_like_no_call_no_call_proves_nothing(
    path: str, source: str, name: str
) -> None:
    span = spans(source, path)[name]
    facts = facts_of(span)
    assert facts.complete and facts.calls == ()
    assert rejection(answer(side_effects=("Logs a message to the console",)), span) is None
