"""Hover Markdown: model text is escaped; the code's own facts (signature, first docstring line,
side effects, raises) show in every state, apart from the model's words."""

from __future__ import annotations

import dataclasses

from enrich_core.present.render import escape_markdown, hover_json, render_hover
from enrich_core.records.facts import CodeFacts, Effect, EffectKind, Raise
from enrich_core.records.gloss import Gloss
from enrich_core.records.span import SpanKind, SpanRecord
from enrich_core.store.reads import GlossRecord, HoverInfo

SPAN = SpanRecord(
    path="a.py", name="f", qualname="f", kind=SpanKind.FUNCTION, container=None,
    start_line=0, start_col=0, end_line=3, end_col=0, name_line=0, name_col=4,
    name_end_col=5, header_end_line=0, signature="def f(x)", docstring="Do it.\n\nMore.",
    content_hash="h", language="python", prev_hash=None,
)  # fmt: skip


def record(**changes: object) -> GlossRecord:
    fields: dict[str, object] = {
        "summary": "Adds one.",
        "inputs": ("x: a number",),
        "outputs": ("x + 1",),
        "side_effects": (),
        "pitfalls": ("overflows never",),
        "usage_snippet": "f(1)",
        "tags": ("math",),
    }
    fields.update(changes)
    return GlossRecord(
        gloss=Gloss(**fields),  # type: ignore[arg-type]
        model="m:7b", tier="small", backend="b", tokens_in=1, tokens_out=1,
        duration_ms=1.0, attempts=1, created_at=0.0,
    )  # fmt: skip


# The block every hover of SPAN ends with, before its footer: read from the code, never a model.
CODE_BLOCK = (
    "**From the code** *(read from the source by Gloss, not written by a model)*\n"
    "```python\ndef f(x)\n```\n"
    "Do it."
)


def test_hover_with_a_gloss_has_sections_and_a_footer() -> None:
    text = render_hover(HoverInfo(SPAN, record(), stale=False, failure=None))
    assert text.startswith("Adds one.")
    assert "**Inputs**\n- x: a number" in text
    assert "**Side effects**" not in text  # empty sections are left out
    assert "```python\nf(1)\n```" in text
    assert text.endswith("*gloss by m:7b · tier small · fresh*")


def test_a_glossed_hover_still_shows_the_signature_and_docstring_after_the_model_text() -> None:
    # Issue 14: once a gloss existed, the hover lost the signature and the docstring.
    text = render_hover(HoverInfo(SPAN, record(), stale=False, failure=None))
    model_part, _, rest = text.partition(f"\n\n{CODE_BLOCK}\n\n")
    assert rest == "---\n*gloss by m:7b · tier small · fresh*", text
    assert model_part.startswith("Adds one.")  # the summary first, as DESIGN.md says
    assert "def f(x)" not in model_part and "Do it." not in model_part
    assert "More." not in text  # the first docstring line only


def test_every_state_has_one_layout_and_says_the_code_s_facts_once() -> None:
    glossed = record()
    states = {
        "fresh": HoverInfo(SPAN, glossed, stale=False, failure=None),
        "stale": HoverInfo(SPAN, glossed, stale=True, failure=None),
        "older prompt": HoverInfo(SPAN, glossed, stale=False, failure=None, older_prompt="1"),
        "pending": HoverInfo(SPAN, None, stale=False, failure=None),
        "failed": HoverInfo(SPAN, None, stale=False, failure="HTTP 500"),
    }
    for state, info in states.items():
        text = render_hover(info, queue_position=0)
        before, block, footer = text.partition(CODE_BLOCK)
        assert block and footer.startswith("\n\n---\n*") and footer.count("\n") == 3, state
        assert text.count("def f(x)") == 1 and text.count("Do it.") == 1, state
        assert (before == "") == (info.gloss is None), state
        data = hover_json(info)
        assert data["signature"] == "def f(x)" and data["docstring_first_line"] == "Do it."
        assert data["language"] == "python" and data["markdown"] == render_hover(info)


def test_the_docstring_line_is_escaped_and_the_signature_fenced_as_written() -> None:
    hostile = dataclasses.replace(
        SPAN,
        signature='def f(x="```")',
        docstring="<b>Bold</b> [run](command:x) see https://evil.example\n\nrest",
    )
    text = render_hover(HoverInfo(hostile, record(), stale=False, failure=None))
    assert '````python\ndef f(x="```")\n````' in text  # its backticks cannot close the fence
    assert "&lt;b&gt;Bold&lt;/b&gt; \\[run\\](command:x) see https\\://evil.example" in text
    assert "<b>" not in text and "rest" not in text


def test_stale_gloss_says_so_and_why() -> None:
    info = HoverInfo(SPAN, record(), stale=True, failure=None)
    text = render_hover(info, queue_position=2)
    assert "stale: the code changed since this gloss" in text
    assert "gloss pending (2 ahead in the queue)" in text


def test_without_a_gloss_only_code_facts_and_the_state() -> None:
    pending = render_hover(HoverInfo(SPAN, None, stale=False, failure=None), queue_position=0)
    assert pending == f"{CODE_BLOCK}\n\n---\n*gloss pending (next in the queue)*"
    failed = render_hover(
        HoverInfo(SPAN, None, stale=False, failure="HTTP 500", failure_attempts=3)
    )
    assert failed.endswith("*gloss failed (after 3 tries): HTTP 500*")
    data = hover_json(HoverInfo(SPAN, None, stale=False, failure="HTTP 500"))
    assert data["state"] == "failed" and data["gloss"] is None and data["line"] == 1


def test_model_text_cannot_inject_html_links_or_commands() -> None:
    evil = record(
        summary="<img src=x onerror=alert(1)> [run](command:workbench.action.terminal.new) "
        "<command:foo> ![i](http://x/y.png)",
        inputs=("# heading", "- nested", "1. ordered"),
        usage_snippet="```\n</code><script>x</script>",
    )
    text = render_hover(HoverInfo(SPAN, evil, stale=False, failure=None))
    prose = text.split("````")[0]
    assert "<img" not in prose and "<command:" not in prose and "<script>" not in prose
    # Every ] is escaped, so no [text](target) link can form.
    unescaped = prose.replace("\\]", "")
    assert "](command:" not in unescaped and "](http" not in unescaped
    assert "\\[run\\]" in text
    # The snippet's own backticks cannot close its fence.
    assert "````python\n```\n</code><script>x</script>\n````" in text
    assert "- \\# heading" in text and "- \\- nested" in text and "- 1\\. ordered" in text


def test_escape_keeps_plain_text_plain() -> None:
    assert escape_markdown("Returns the sum, or None.") == "Returns the sum, or None."
    assert escape_markdown("a\n\n> quote") == "a &gt; quote"


# What the issue measured: model text with a screen clear, a window-title set,
# a right-to-left override and a line break.
HOSTILE = "Sums.\x1b[2J\x1b]0;pwned\x07 \u202eevil\u202c\r\nnext"


def test_model_text_with_terminal_escapes_and_bidi_shows_them_as_escapes() -> None:
    hostile = record(
        summary=HOSTILE, inputs=(HOSTILE,), usage_snippet="f(1)\x1b[2J\r\n# \u2066x\u2069"
    )
    info = HoverInfo(SPAN, hostile, stale=False, failure=f"HTTP 500: {HOSTILE}")
    for text in (render_hover(info), hover_json(info)["markdown"]):
        for raw in ("\x1b", "\x07", "\r", "\u202e", "\u202c", "\u2066", "\u2069"):
            assert raw not in text
        # Escaped as text, and Markdown-escaped so the backslash shows.
        assert "Sums.\\\\x1b\\[2J\\\\x1b\\]0;pwned\\\\x07 \\\\u202eevil\\\\u202c next" in text
        # Inside the code fence the escapes show as they are; its layout stays.
        assert "f(1)\\x1b[2J\n# \\u2066x\\u2069\n" in text


def test_bare_urls_and_addresses_in_model_text_are_not_links_unless_allowed() -> None:
    summary = "See https://evil.example/x, www.evil.example, //evil.example and a@evil.example."
    info = HoverInfo(SPAN, record(summary=summary), stale=False, failure=None)
    text = render_hover(info)
    assert text.startswith(
        "See https\\://evil.example/x, www\\.evil.example, /\\/evil.example and a\\@evil.example."
    )
    # What an autolinker looks for is gone; every character is still there.
    for trigger in ("https://", "www.", " //evil", "a@"):
        assert trigger not in text.split("\n\n")[0]
    assert render_hover(info, links=True).startswith(summary)
    assert hover_json(info, links=True)["markdown"].startswith(summary)


def test_link_escapes_leave_ordinary_prose_alone() -> None:
    plain = "Calls os.path.join on user@ and 3.14, returns a dict: {'a': 1}."
    assert (
        escape_markdown(plain)
        == "Calls os.path.join on user@ and 3.14, returns a dict: \\{'a': 1\\}."
    )


FACTS = CodeFacts(
    effects=(
        Effect(EffectKind.FILE, "open(", 12),
        Effect(EffectKind.LOGGING, "log.info(", 14),
        Effect(EffectKind.FILE, "open(", 20),  # the same evidence again: shown once
        Effect(EffectKind.FILE, "os.remove(", 22),
        Effect(EffectKind.FILE, "shutil.rmtree(", 23),
    ),
    raises=(
        Raise("ValueError", "raise", 30, direct=True),
        Raise("OSError", "open(", 12, direct=False),
        Raise("ValueError", "int(", 9, direct=False),  # the raise statement is shown
    ),
    calls=("open", "log.info", "os.remove", "shutil.rmtree", "int"),
    parameters=("x",),
)
# The facts' lines, after the docstring line in the block.
FACTS_LIST = (
    "\n- Side effects: file (`open(`, line 12; `os.remove(`, line 22; 1 more), "
    "logging (`log.info(`, line 14)\n"
    "- Raises: OSError (via `open(`, line 12), ValueError (line 30)"
)


def test_facts_from_the_code_are_a_block_of_their_own_after_the_model_text() -> None:
    glossed = record(side_effects=("writes a cache",))
    text = render_hover(HoverInfo(SPAN, glossed, stale=False, failure=None, facts=FACTS))
    model_part, facts_part = text.split("\n\n**From the code**")
    # The model's own list is as the model wrote it, with none of the facts in it.
    assert "**Side effects**\n- writes a cache\n\n**Pitfalls**" in model_part
    assert "open(" not in model_part and "ValueError" not in model_part
    assert "**From the code**" + facts_part == CODE_BLOCK + FACTS_LIST + (
        "\n\n---\n*gloss by m:7b · tier small · fresh*"
    )


def test_the_facts_block_shows_in_every_hover_state() -> None:
    states = {
        "fresh": HoverInfo(SPAN, record(), stale=False, failure=None, facts=FACTS),
        "stale": HoverInfo(SPAN, record(), stale=True, failure=None, facts=FACTS),
        "older prompt": HoverInfo(
            SPAN, record(), stale=False, failure=None, older_prompt="1", facts=FACTS
        ),
        "pending": HoverInfo(SPAN, None, stale=False, failure=None, facts=FACTS),
        "failed": HoverInfo(SPAN, None, stale=False, failure="HTTP 500", facts=FACTS),
    }
    for state, info in states.items():
        text = render_hover(info, queue_position=0)
        assert f"{FACTS_LIST}\n\n---\n*" in text, state
        assert hover_json(info)["facts"]["raises"][0] == {
            "exception": "ValueError",
            "evidence": "raise",
            "line": 30,
            "direct": True,
        }, state
    pending = render_hover(states["pending"], queue_position=0)
    assert pending == f"{CODE_BLOCK}{FACTS_LIST}\n\n---\n*gloss pending (next in the queue)*"


def test_no_facts_block_when_the_code_does_nothing_to_show_or_they_are_not_known() -> None:
    calls_only = CodeFacts(effects=(), raises=(), calls=("len",), parameters=("x",))
    for facts in (None, calls_only):
        for info in (
            HoverInfo(SPAN, record(), stale=False, failure=None, facts=facts),
            HoverInfo(SPAN, None, stale=False, failure="HTTP 500", facts=facts),
        ):
            text = render_hover(info)
            assert text.count("From the code") == 1 and "- Side effects" not in text
            assert "\n- Raises" not in text and f"{CODE_BLOCK}\n\n---\n" in text
    assert hover_json(HoverInfo(SPAN, None, stale=False, failure=None))["facts"] is None
    known = hover_json(HoverInfo(SPAN, None, stale=False, failure=None, facts=calls_only))
    assert known["facts"] == {"effects": [], "raises": []}


def test_hover_json_carries_every_fact_as_found() -> None:
    data = hover_json(HoverInfo(SPAN, record(), stale=False, failure=None, facts=FACTS))
    assert data["facts"]["effects"] == [
        {"kind": e.kind.value, "evidence": e.evidence, "line": e.line} for e in FACTS.effects
    ]
    assert len(data["facts"]["raises"]) == 3


def test_model_text_cannot_pass_for_facts_from_the_code() -> None:
    forged = record(summary="**From the code** *(read from the source by Gloss)*")
    text = render_hover(HoverInfo(SPAN, forged, stale=False, failure=None))
    assert text.count("**From the code**") == 1  # Gloss's own heading, not the model's
    assert text.startswith("\\*\\*From the code\\*\\*")


def test_evidence_is_shown_as_code_that_nothing_in_it_can_break_out_of() -> None:
    hostile = CodeFacts(
        effects=(
            Effect(EffectKind.ENVIRONMENT, "os.environ[`k`] =", 3),
            Effect(EffectKind.FILE, "write(`</code><img src=x onerror=alert(1)>`)\n# x", 4),
            Effect(EffectKind.NETWORK, "send(\x1b[2J\u202e", 5),
            Effect(EffectKind.LOGGING, "`", 6),
        ),
        raises=(Raise("<b>Bad</b>", "raise", 7, direct=True),),
        calls=(),
        parameters=None,
    )
    text = render_hover(HoverInfo(SPAN, None, stale=False, failure=None, facts=hostile))
    assert "``os.environ[`k`] =``" in text
    # One line, fenced by two backticks: the inner ones cannot close it.
    assert "``write(`</code><img src=x onerror=alert(1)>`) # x``" in text
    assert "`send(\\x1b[2J\\u202e`" in text and "\x1b" not in text and "\u202e" not in text
    assert "`` ` ``" in text
    assert "&lt;b&gt;Bad&lt;/b&gt; (line 7)" in text
