"""The context a request carries beside the code: each part rendered, fitted per tier.

Spans are cut by the real extractor; budgets are set from the real request's
estimated size, so each case sits just at a part's edge. The routing cases go
over real HTTP to the test LLM server and read what it received.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bench.support.llm_server import Behavior, LLMServer
from enrich_core.config import (
    DEFAULT_PROMPT_CONTEXT,
    PROMPT_CONTEXT_PARTS,
    BackendConfig,
    TierConfig,
    load_config,
)
from enrich_core.llm.http import OllamaBackend
from enrich_core.llm.outbound import (
    DOCSTRING_HEADER,
    DOCSTRING_MARKER,
    PROMPT_VERSION,
    build_prompt,
    outbound_span,
)
from enrich_core.llm.prompt_context import fit_context, prompt_tokens
from enrich_core.llm.router import Router
from enrich_core.records.context import CONTEXT_PARTS, CalleeSummary, SpanContext
from enrich_core.records.span import Span
from enrich_core.run.engine import Engine
from enrich_core.source.spans import extract_spans
from tests.conftest import LARGE, SMALL, gloss_toml

SOURCE = '''\
import json
from pathlib import Path


class Settings:
    """Settings read from a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values: dict[str, str] = {}

    def load(self, strict: bool = False) -> dict[str, str]:
        """Read the file into `values`.

        Keys starting with an underscore are private.
        """
        raw = read_text(self.path)
        self.values = parse_pairs(json.loads(raw), strict)
        return self.values
'''

CONTEXT = SpanContext(
    imports=("import json", "from pathlib import Path"),
    outline=(
        "class Settings:\n"
        "    def __init__(self, path: Path) -> None: ...\n"
        "    def load(self, strict: bool = False) -> dict[str, str]: ..."
    ),
    callees=(
        CalleeSummary("read_text", "settings.read_text", "Returns a file's text as UTF-8."),
        CalleeSummary(
            "parse_pairs", "settings.parse_pairs", "Keeps string pairs;\nraises on others."
        ),
    ),
)

EXPECTED_LOAD_REQUEST = """\
Path: pkg/settings.py
Language: Python
Symbol: Settings.load
Kind: method
Enclosing scope: Settings
Signature: def load(self, strict: bool = False) -> dict[str, str]
Imports:
```python
import json
from pathlib import Path
```
Enclosing class outline:
```python
class Settings:
    def __init__(self, path: Path) -> None: ...
    def load(self, strict: bool = False) -> dict[str, str]: ...
```
Functions it calls (their glosses):
read_text: Returns a file's text as UTF-8.
parse_pairs: Keeps string pairs; raises on others.
Docstring (the reader sees it already; add what it does not say):
```
Read the file into `values`.

Keys starting with an underscore are private.
```
Code:
```python
def load(self, strict: bool = False) -> dict[str, str]:
        # (docstring given in its own section)
        raw = read_text(self.path)
        self.values = parse_pairs(json.loads(raw), strict)
        return self.values
```"""


def load_span() -> Span:
    spans = {s.qualname: s for s in extract_spans("pkg/settings.py", SOURCE)}
    return spans["Settings.load"]


def user_text(messages: object) -> str:
    assert isinstance(messages, list | tuple)
    content = messages[-1]["content"]
    assert isinstance(content, str)
    return content


def tier_fitting(tokens: int, name: str = "t") -> TierConfig:
    """A tier whose context holds a request of exactly `tokens` estimated tokens."""
    return TierConfig(name, "m", ("b",), max_tokens=100, context_tokens=tokens + 100)


def test_the_version_marks_the_new_layout() -> None:
    assert PROMPT_VERSION == "2"


def test_every_part_is_rendered_in_its_place() -> None:
    prompt = build_prompt(outbound_span(load_span(), CONTEXT))
    assert user_text(prompt.messages) == EXPECTED_LOAD_REQUEST


def test_a_python_docstring_is_sent_once() -> None:
    outbound = outbound_span(load_span(), CONTEXT)
    shown = user_text(build_prompt(outbound).messages)
    assert shown.count("Keys starting with an underscore are private.") == 1
    assert shown.count(DOCSTRING_MARKER) == 1
    # Without the docstring part the code keeps its docstring, as written.
    bare = user_text(build_prompt(outbound, parts=("imports",)).messages)
    assert DOCSTRING_HEADER not in bare and DOCSTRING_MARKER not in bare
    assert '        """Read the file into `values`.\n' in bare
    assert bare.count("Keys starting with an underscore are private.") == 1


def test_the_member_s_own_docstring_is_not_repeated_in_its_class_outline() -> None:
    spans = {s.qualname: s for s in extract_spans("pkg/settings.py", SOURCE)}
    # The engine's outline for a member is its type's span text, docstrings kept.
    context = SpanContext(outline=spans["Settings"].text)
    outbound = outbound_span(spans["Settings.load"], context)
    shown = user_text(build_prompt(outbound).messages)
    assert shown.count("Keys starting with an underscore are private.") == 1
    outline = shown.split("Enclosing class outline:\n")[1].split("\n```\n")[0]
    assert outline.splitlines()[-3:] == [
        "    def load(self, strict: bool = False) -> dict[str, str]:",
        f"        {DOCSTRING_MARKER}",
        "        ...",
    ]
    assert '"""Settings read from a JSON file."""' in outline  # the class's own stays
    # Without the docstring part, the outline is sent as the engine gave it.
    alone = user_text(build_prompt(outbound, parts=("outline",)).messages)
    assert spans["Settings"].text in alone


def test_a_docstring_that_shares_its_line_stays_in_the_code() -> None:
    (span,) = extract_spans("m.py", 'def one(): """Return 1."""; return 1\n')
    shown = user_text(build_prompt(outbound_span(span)).messages)
    assert DOCSTRING_MARKER not in shown
    assert 'def one(): """Return 1."""; return 1' in shown


def test_a_trimmed_view_whose_head_holds_the_docstring_loses_it_too() -> None:
    body = "".join(f"    value_{i} = compute({i})\n" for i in range(400))
    source = f'def big(x):\n    """Compute many values."""\n{body}    return x\n'
    (span,) = extract_spans("m.py", source)
    outbound = outbound_span(span)
    lines = outbound.code.splitlines()
    view = "\n".join([*lines[:20], "    # ... 380 lines omitted by Gloss ...", *lines[-3:]])
    shown = user_text(build_prompt(outbound, view).messages)
    assert shown.count("Compute many values.") == 1 and DOCSTRING_MARKER in shown
    # A view whose head was cut before the docstring's end is sent as cut.
    cut = "\n".join([lines[0], "    # ... omitted ...", *lines[-3:]])
    assert DOCSTRING_MARKER not in user_text(build_prompt(outbound, cut).messages)


def test_a_doc_comment_outside_the_code_is_shown_and_the_code_is_whole() -> None:
    go = "package kv\n\n// Put stores value under key.\nfunc Put(key, value string) {\n}\n"
    (span,) = extract_spans("kv.go", go)
    shown = user_text(build_prompt(outbound_span(span)).messages)
    assert "Language: Go" in shown
    assert f"{DOCSTRING_HEADER}\n```\nPut stores value under key.\n```\nCode:\n```go\n" in shown
    assert "func Put(key, value string) {\n}\n```" in shown
    assert "Enclosing type outline:" in user_text(
        build_prompt(outbound_span(span, SpanContext(outline="type KV struct{}"))).messages
    )


def test_all_parts_that_fit_are_sent_and_recorded() -> None:
    outbound = outbound_span(load_span(), CONTEXT)
    fitted = fit_context(outbound, outbound.code, tier_fitting(10_000))
    assert fitted.sent == ("docstring", "outline", "callees", "imports")
    assert fitted.dropped == ()
    assert fitted.record == "docstring, outline, callees 2, imports 2"
    assert user_text(fitted.prompt.messages) == EXPECTED_LOAD_REQUEST


@pytest.mark.parametrize("dropped", range(len(CONTEXT_PARTS) + 1))
def test_a_short_budget_drops_whole_parts_imports_first(dropped: int) -> None:
    """The budget is set to the size of the request with the parts that should stay:
    exactly those are sent, and the rest are named in the record."""
    outbound = outbound_span(load_span(), CONTEXT)
    kept = CONTEXT_PARTS[dropped:]
    size = prompt_tokens(build_prompt(outbound, outbound.code, kept))
    fitted = fit_context(outbound, outbound.code, tier_fitting(size))
    assert fitted.sent == tuple(reversed(kept))
    assert fitted.dropped == CONTEXT_PARTS[:dropped]
    assert prompt_tokens(fitted.prompt) <= size
    # One token less and the next part goes too.
    if kept:
        tighter = fit_context(outbound, outbound.code, tier_fitting(size - 1))
        assert tighter.dropped == CONTEXT_PARTS[: dropped + 1]
    expected = {
        0: "docstring, outline, callees 2, imports 2",
        1: "docstring, outline, callees 2; dropped for the budget: imports",
        2: "docstring, outline; dropped for the budget: imports, callees",
        3: "docstring; dropped for the budget: imports, callees, outline",
        4: "none; dropped for the budget: imports, callees, outline, docstring",
    }
    assert fitted.record == expected[dropped]


def test_parts_turned_off_are_not_sent_and_not_counted_as_dropped() -> None:
    outbound = outbound_span(load_span(), CONTEXT)
    fitted = fit_context(outbound, outbound.code, tier_fitting(10_000), ("outline", "callees"))
    assert fitted.sent == ("outline", "callees") and fitted.dropped == ()
    assert fitted.record == "outline, callees 2"
    text = user_text(fitted.prompt.messages)
    assert "Imports:" not in text and DOCSTRING_HEADER not in text
    none = fit_context(outbound, outbound.code, tier_fitting(10_000), ())
    assert none.record == "none"
    assert user_text(none.prompt.messages) == user_text(
        build_prompt(outbound, outbound.code, ()).messages
    )


def test_parts_a_span_does_not_have_are_not_recorded() -> None:
    (span,) = extract_spans("m.py", "def add(a, b):\n    return a + b\n")
    outbound = outbound_span(span, SpanContext(imports=("import math",)))
    assert fit_context(outbound, outbound.code, tier_fitting(10_000)).record == "imports 1"


def test_the_config_knows_exactly_the_parts_the_prompt_has() -> None:
    # config/ may not import records/: the two lists are kept equal here.
    assert PROMPT_CONTEXT_PARTS == CONTEXT_PARTS


def _two_tiers(small_room: int, large_room: int) -> tuple[TierConfig, TierConfig]:
    small = TierConfig("small", SMALL, ("test",), max_tokens=100, context_tokens=small_room + 100)
    large = TierConfig("large", LARGE, ("test",), max_tokens=100, context_tokens=large_room + 100)
    return small, large


async def test_a_bigger_tier_carries_more_context_over_the_wire(llm: LLMServer) -> None:
    span = load_span()
    outbound = outbound_span(span, CONTEXT)
    # The small tier holds the docstring and the outline, the large one everything.
    small_room = prompt_tokens(build_prompt(outbound, outbound.code, ("outline", "docstring")))
    small, large = _two_tiers(small_room, 10_000)
    llm.set_behavior(Behavior(mode="invalid_schema"), model=SMALL)  # escalates
    backend = OllamaBackend(BackendConfig(name="test", kind="ollama", url=llm.url))
    router = Router((small, large), {"test": backend})
    try:
        result = await router.gloss(span, context=CONTEXT)
    finally:
        await backend.aclose()
    assert result.tier == "large" and result.gloss is not None
    assert result.context == "docstring, outline, callees 2, imports 2"
    by_model = {r.model: user_text(r.body["messages"]) for r in llm.requests}
    assert "Enclosing class outline:" in by_model[SMALL]
    assert "Imports:" not in by_model[SMALL] and "Functions it calls" not in by_model[SMALL]
    assert by_model[LARGE] == EXPECTED_LOAD_REQUEST


async def test_the_first_tier_answers_with_what_fitted_it(llm: LLMServer) -> None:
    span = load_span()
    outbound = outbound_span(span, CONTEXT)
    small_room = prompt_tokens(build_prompt(outbound, outbound.code, ("docstring",)))
    small, large = _two_tiers(small_room, 10_000)
    backend = OllamaBackend(BackendConfig(name="test", kind="ollama", url=llm.url))
    router = Router((small, large), {"test": backend}, context_parts=("docstring", "imports"))
    try:
        result = await router.gloss(span, context=CONTEXT)
    finally:
        await backend.aclose()
    assert result.tier == "small" and result.gloss is not None
    assert result.context == "docstring; dropped for the budget: imports"
    (request,) = llm.requests
    assert DOCSTRING_HEADER in user_text(request.body["messages"])


async def test_a_span_glossed_without_context_records_none(llm: LLMServer) -> None:
    (span,) = extract_spans("m.py", "def add(a, b):\n    return a + b\n")
    small, large = _two_tiers(10_000, 10_000)
    backend = OllamaBackend(BackendConfig(name="test", kind="ollama", url=llm.url))
    try:
        result = await Router((small, large), {"test": backend}).gloss(span)
    finally:
        await backend.aclose()
    assert result.gloss is not None and result.context == "none"


@pytest.mark.parametrize(("setting", "shows_docstring"), [("", True), ("context = []", False)])
async def test_the_engine_sends_the_parts_gloss_toml_turns_on(
    tmp_path: Path, llm: LLMServer, setting: str, shows_docstring: bool
) -> None:
    """`[prompt] context` reaches the router through the engine: a Go doc comment (not
    in the code) is sent by default and not at all when the parts are turned off."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "kv.go").write_text(
        "package kv\n\n// Put stores value under key, replacing an older one.\n"
        "func Put(key, value string) {\n}\n"
    )
    extra = textwrap.dedent(f"\n[prompt]\n{setting}\n")
    (root / "gloss.toml").write_text(gloss_toml(llm.url, extra=extra))
    config = load_config(root)
    assert config.prompt.context == (DEFAULT_PROMPT_CONTEXT if not setting else ())
    engine = Engine(root, config)
    await engine.start()
    try:
        await engine.scan()
        await engine.wait_idle()
    finally:
        await engine.stop()
    texts = [user_text(r.body["messages"]) for r in llm.requests if r.symbol == "Put"]
    assert texts
    for text in texts:
        assert ("replacing an older one" in text) is shows_docstring
