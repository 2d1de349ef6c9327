"""Everything after the cut knows the span's language: prompt, gate, trimming, hover.

Spans are cut from real source by the real extractor; requests are checked
byte for byte, since every stored gloss was written from one (PROMPT_VERSION).
"""

from __future__ import annotations

import dataclasses

import pytest

from enrich_core.config import TierConfig
from enrich_core.llm.first_tier import choose_route, trim
from enrich_core.llm.gate import check_quality, parameter_names
from enrich_core.llm.outbound import PROMPT_VERSION, prompt_for
from enrich_core.present.render import render_hover
from enrich_core.records.gloss import Gloss, GlossRejected
from enrich_core.records.span import Span, SpanRecord
from enrich_core.source.spans import extract_spans
from enrich_core.store.reads import GlossRecord, HoverInfo

GO = """\
package store

// Put stores value under key.
func (s *Store) Put(key, value string) {
\ts.items[key] = value
}

// Store holds values by key.
type Store struct {
\titems map[string]string
}
"""

JS = """\
/** Greets a user by name. */
export function greet({ name, title }, punctuation = "!") {
  return `Hello ${title} ${name}${punctuation}`;
}

/** Greets the first of a pair. */
export function greetPair([first, second], { user: { nick } }) {
  return `Hello ${first.name}, ${nick}`;
}
"""


def spans(path: str, source: str) -> dict[str, Span]:
    return {s.qualname: s for s in extract_spans(path, source)}


def user_message(span: Span) -> str:
    return prompt_for(span).messages[1]["content"]


def test_python_s_request_names_its_language_too() -> None:
    (span,) = extract_spans("pkg/m.py", "def add(a, b):\n    return a + b\n")
    # Version 2 names the language for Python as for the others (and adds context).
    assert PROMPT_VERSION == "2"
    assert user_message(span) == (
        "Path: pkg/m.py\n"
        "Language: Python\n"
        "Symbol: add\n"
        "Kind: function\n"
        "Signature: def add(a, b)\n"
        "Code:\n"
        "```python\n"
        "def add(a, b):\n"
        "    return a + b\n"
        "```"
    )


def test_another_language_is_named_and_fenced_with_its_tag() -> None:
    found = spans("svc/store.go", GO)
    assert user_message(found["Store.Put"]) == (
        "Path: svc/store.go\n"
        "Language: Go\n"
        "Symbol: Store.Put\n"
        "Kind: method\n"
        "Enclosing scope: Store\n"
        "Signature: func (s *Store) Put(key, value string)\n"
        # The doc comment is not in a Go span's code: the request shows it apart.
        "Docstring (the reader sees it already; add what it does not say):\n"
        "```\n"
        "Put stores value under key.\n"
        "```\n"
        "Code:\n"
        "```go\n"
        "func (s *Store) Put(key, value string) {\n"
        "\ts.items[key] = value\n"
        "}\n"
        "```"
    )
    # A type's outline says its members are glossed on their own.
    assert "Member bodies are cut to `...`" in user_message(found["Store"])


def gloss(inputs: tuple[str, ...]) -> Gloss:
    return Gloss(
        summary="Stores a value under its key in the map, replacing an older one.",
        inputs=inputs,
        outputs=(),
        side_effects=("mutates the store's map",),
        pitfalls=("a nil map panics",),
        usage_snippet='s.Put("a", "b")',
        tags=("cache",),
    )


def test_the_gate_checks_parameters_the_language_s_query_read() -> None:
    put = spans("svc/store.go", GO)["Store.Put"]
    assert parameter_names(put) == frozenset({"s", "key", "value"})
    check_quality(gloss(("key: the key", "value: what to store")), put)
    with pytest.raises(GlossRejected) as rejected:
        check_quality(gloss(("name: the key", "payload: what to store")), put)
    assert rejected.value.reason == "invented_inputs"


def test_destructured_object_keys_are_parameters() -> None:
    greet = spans("web/greet.js", JS)["greet"]
    assert parameter_names(greet) == frozenset({"name", "title", "punctuation"})
    check_quality(gloss(("name: who to greet", "title: how to address them")), greet)
    with pytest.raises(GlossRejected) as rejected:
        check_quality(gloss(("user: who to greet", "greeting: the words")), greet)
    assert rejected.value.reason == "invented_inputs"


def test_a_destructured_parameter_the_query_does_not_name_is_not_invented() -> None:
    pair = spans("web/greet.js", JS)["greetPair"]
    # An array pattern and a nested object pattern: their names are only in the signature.
    assert parameter_names(pair) == frozenset()
    about_pair = dataclasses.replace(
        gloss(("first: who is greeted", "nick: what they are called")),
        usage_snippet='greetPair([ann, bob], { user: { nick: "Al" } })',
    )
    check_quality(about_pair, pair)


def test_where_parameters_cannot_be_known_the_check_is_skipped() -> None:
    store = spans("svc/store.go", GO)["Store"]
    assert parameter_names(store) is None  # a type: no single parameter list
    check_quality(gloss(("anything: at all", "whatever: else")), store)
    put = spans("svc/store.go", GO)["Store.Put"]
    unknown = dataclasses.replace(put, parameters=None)  # a query that names no parameters
    check_quality(gloss(("anything: at all", "whatever: else")), unknown)


def test_a_trimmed_view_marks_its_gap_with_the_language_s_comment() -> None:
    body = "".join(f"  value_{i} = compute(x);\n" for i in range(2000))
    code = f"function f(x) {{\n{body}  return x;\n}}\n"
    view, kept, total = trim(code, 2000, "//")
    assert "// ... " in view and "lines omitted by Gloss" in view and "# ..." not in view
    assert kept < total == 2003
    tiers = (TierConfig("only", "m", ("b",), max_tokens=100, context_tokens=2048),)
    route = choose_route(tiers, code, 200, "//")
    assert route.trimmed is not None and "// ... " in route.code


def test_the_hover_fences_code_in_the_span_s_language() -> None:
    put = spans("svc/store.go", GO)["Store.Put"]
    fields = {
        f.name: getattr(put, f.name)
        for f in dataclasses.fields(SpanRecord)
        if f.name != "prev_hash"
    }
    record = SpanRecord(**fields, prev_hash=None)
    pending = render_hover(HoverInfo(record, None, stale=False, failure=None), queue_position=0)
    assert "\n```go\nfunc (s *Store) Put(key, value string)\n```\n" in pending
    assert "Put stores value under key." in pending
    glossed = GlossRecord(
        gloss=gloss(("key: the key",)), model="m", tier="small", backend="b", tokens_in=1,
        tokens_out=1, duration_ms=1.0, attempts=1, created_at=0.0,
    )  # fmt: skip
    text = render_hover(HoverInfo(record, glossed, stale=False, failure=None))
    assert '```go\ns.Put("a", "b")\n```' in text
