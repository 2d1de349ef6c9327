"""Hover Markdown: model text is escaped; without a gloss only facts from the code are shown."""

from __future__ import annotations

from enrich_core.present.render import escape_markdown, hover_json, render_hover
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


def test_hover_with_a_gloss_has_sections_and_a_footer() -> None:
    text = render_hover(HoverInfo(SPAN, record(), stale=False, failure=None))
    assert text.startswith("Adds one.")
    assert "**Inputs**\n- x: a number" in text
    assert "**Side effects**" not in text  # empty sections are left out
    assert "```python\nf(1)\n```" in text
    assert text.endswith("*gloss by m:7b · tier small · fresh*")


def test_stale_gloss_says_so_and_why() -> None:
    info = HoverInfo(SPAN, record(), stale=True, failure=None)
    text = render_hover(info, queue_position=2)
    assert "stale: the code changed since this gloss" in text
    assert "gloss pending (2 ahead in the queue)" in text


def test_without_a_gloss_only_code_facts_and_the_state() -> None:
    pending = render_hover(HoverInfo(SPAN, None, stale=False, failure=None), queue_position=0)
    assert pending == "```python\ndef f(x)\n```\n\nDo it.\n\n*gloss pending (next in the queue)*"
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
