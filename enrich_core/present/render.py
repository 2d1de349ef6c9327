"""Hover text: the Markdown an editor shows, and the JSON `gloss hover --json` prints.

LLM text is untrusted. Everything a model wrote is escaped so it renders as
text: no raw HTML, no links (so no `command:` links), no headings or tables;
the usage snippet goes in a code fence longer than any backtick run inside it.
Control and bidi characters show as visible escapes (`present.terminal`), in
code fences too. Bare URLs, `www.` hosts and e-mail addresses would still
become links in an editor that autolinks: VS Code renders hovers with
`marked` (GFM), which links `https://...`, `ftp://...`, `www....` and `a@b.c`;
markdown-it's linkify links those and `//host`. Unless `[hover] links = true`,
the `:` of `scheme://`, the second `/` of `//host`, the dot of `www.` and the
`@` of an address are backslash-escaped: both renderers then show the very
same characters, as text. (A zero-width joiner does not work: linkify-it takes
it into the host name.) Only markdown-it's fuzzy linkify, which VS Code's
hovers do not use, would still link a bare `host.tld`. Neovim shows the
Markdown source, with the escapes concealed.

One layout for every state: the model's words (only when a gloss exists:
summary first, then its sections), then what Gloss read from the code itself
under "**From the code**", then a rule and the footer (model, tier, freshness;
or "gloss pending" / "gloss failed: REASON", and why). The block is always
there: the span's signature, in a code block of the file's language, and the
first line of its docstring (escaped: an author's text, not Gloss's), then the
side effects and raised exceptions once known (records/facts.py). So the
code's own facts show beside a gloss too, apart from the model's words: a
model's text is escaped, so it cannot make that heading. Evidence is code,
shown in code spans fenced longer than any backtick run in it.
"""

from __future__ import annotations

import re
from typing import Any

from enrich_core.present.terminal import terminal_safe
from enrich_core.records.facts import CodeFacts, Effect, Raise
from enrich_core.source.languages import language_named
from enrich_core.store.reads import HoverInfo

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~])")
# Only at the start of a paragraph do these begin a block (heading, list, rule).
_MD_BLOCK_START = re.compile(r"^[#+=-]")
_MD_ORDERED_START = re.compile(r"^(\d+)([.)])")
_FAILURE_MAX_CHARS = 400
FACTS_HEADING = "**From the code** *(read from the source by Gloss, not written by a model)*"
# Places shown for one kind of side effect, exceptions shown, and evidence's length: the
# block stays a few short lines; the JSON carries every fact.
_PLACES_PER_KIND = 2
_RAISES_SHOWN = 6
_EVIDENCE_MAX_CHARS = 60
# What autolinkers take for the start of a link: `scheme://` (its colon),
# `//host`, `www.` (its dot), an e-mail's `@`.
_LINK_COLON = re.compile(r"(?<=[A-Za-z0-9]):(?=//)")
_LINK_SLASHES = re.compile(r"(?<![\w:/\\])//(?=\w)")
_LINK_WWW = re.compile(r"(?<![\w.])(www)\.(?=\w)", re.IGNORECASE)
_LINK_AT = re.compile(r"(?<=\w)@(?=\w)")


def escape_markdown(text: str, *, links: bool = False) -> str:
    """Plain text for a Markdown renderer: HTML entities first, then Markdown syntax.

    Unless `links`, bare URLs and e-mail addresses are kept from becoming links."""
    # A model's newlines would start new blocks (lists, quotes); keep one paragraph.
    text = terminal_safe(" ".join(text.split()))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    if not links:
        text = _LINK_COLON.sub(r"\\:", text)
        text = _LINK_SLASHES.sub(r"/\\/", text)
        text = _LINK_WWW.sub(r"\1\\.", text)
        text = _LINK_AT.sub(r"\\@", text)
    text = _MD_BLOCK_START.sub(lambda m: "\\" + m.group(0), text)
    return _MD_ORDERED_START.sub(r"\1\\\2", text)


def code_block(code: str, language: str) -> str:
    """`code` fenced for `language` (a row name of the language table)."""
    spec = language_named(language)
    tag = spec.fence if spec else language
    # A fence shows its text as it is: controls and bidi marks only as escapes.
    code = terminal_safe(code.replace("\r\n", "\n"), multiline=True)
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence}{tag}\n{code.rstrip()}\n{fence}"


def render_hover(
    info: HoverInfo,
    queue_position: int | None = None,
    retry_in_s: float | None = None,
    *,
    links: bool = False,
) -> str:
    """The hover's Markdown; `links` lets bare URLs in model text become links."""
    span = info.span

    def text(value: str) -> str:
        return escape_markdown(value, links=links)

    parts: list[str] = []
    record = info.gloss
    if record is None:
        footer = _pending_or_failed(info, queue_position, retry_in_s, links)
    else:
        g = record.gloss
        parts.append(text(g.summary))
        sections = (
            ("Inputs", g.inputs),
            ("Outputs", g.outputs),
            ("Side effects", g.side_effects),
            ("Pitfalls", g.pitfalls),
        )
        for title, items in sections:
            if items:
                lines = "\n".join(f"- {text(item)}" for item in items if item)
                parts.append(f"**{title}**\n{lines}")
        if g.usage_snippet:
            parts.append("**Usage**\n" + code_block(g.usage_snippet, span.language))
        if info.stale:
            freshness = "stale: the code changed since this gloss"
        elif info.older_prompt is not None:
            freshness = f"written by an older prompt (version {escape_markdown(info.older_prompt)})"
        else:
            freshness = "fresh"
        footer = f"gloss by {escape_markdown(record.model)} · tier {escape_markdown(record.tier)}"
        if record.trimmed:
            footer += f" · from a trimmed view ({escape_markdown(record.trimmed)})"
        footer += f" · {freshness}"
        if info.stale or info.older_prompt is not None:
            footer += "; " + _pending_or_failed(info, queue_position, retry_in_s, links)
    parts.append(from_the_code(info, links=links))
    parts.append("---\n*" + footer + "*")
    return "\n\n".join(parts)


def from_the_code(info: HoverInfo, *, links: bool = False) -> str:
    """The block of what Gloss read from the source: the signature (fenced in the span's
    language), the docstring's first line, and the facts once known."""
    span = info.span
    lines = [FACTS_HEADING]
    if span.signature.strip():
        lines.append(code_block(span.signature, span.language))
    first = span.docstring_first_line
    if first:
        lines.append(escape_markdown(first, links=links))
    if info.facts is not None and not info.facts.empty:
        lines += facts_lines(info.facts)
    return "\n".join(lines)


def facts_lines(facts: CodeFacts) -> list[str]:
    """What the code itself does, as the block's list: one line of side effects, one kind
    each (its first places, by line), and one of exceptions, one each (a `raise`
    statement before a call known to raise it)."""
    lines: list[str] = []
    by_kind: dict[str, list[Effect]] = {}
    for effect in sorted(facts.effects, key=lambda e: e.line):
        places = by_kind.setdefault(effect.kind.value, [])
        if all(p.evidence != effect.evidence for p in places):
            places.append(effect)
    if by_kind:
        kinds = []
        for kind, places in by_kind.items():
            shown = "; ".join(
                f"{inline_code(p.evidence)}, line {p.line}" for p in places[:_PLACES_PER_KIND]
            )
            more = len(places) - _PLACES_PER_KIND
            kinds.append(f"{kind} ({shown}{f'; {more} more' if more > 0 else ''})")
        lines.append("- Side effects: " + ", ".join(kinds))
    by_exception: dict[str, Raise] = {}
    for r in sorted(facts.raises, key=lambda r: (not r.direct, r.line)):
        by_exception.setdefault(r.exception, r)
    if by_exception:
        shown_raises = sorted(by_exception.values(), key=lambda r: r.line)
        items = [
            f"{escape_markdown(r.exception)} "
            + (
                f"(line {r.line})"
                if r.direct
                else f"(via {inline_code(r.evidence)}, line {r.line})"
            )
            for r in shown_raises[:_RAISES_SHOWN]
        ]
        if len(shown_raises) > _RAISES_SHOWN:
            items.append(f"{len(shown_raises) - _RAISES_SHOWN} more")
        lines.append("- Raises: " + ", ".join(items))
    return lines


def inline_code(code: str) -> str:
    """`code` as a Markdown code span: shown as written (nothing in it is a link, HTML or
    emphasis), on one line, its controls as escapes, fenced longer than its backticks."""
    code = terminal_safe(" ".join(code.split()))
    if len(code) > _EVIDENCE_MAX_CHARS:
        code = code[: _EVIDENCE_MAX_CHARS - 1] + "…"
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * (longest + 1)
    # A span starting or ending with a backtick needs a space inside its fence.
    pad = " " if code.startswith("`") or code.endswith("`") or not code.strip() else ""
    return f"{fence}{pad}{code}{pad}{fence}"


def _pending_or_failed(
    info: HoverInfo, queue_position: int | None, retry_in_s: float | None, links: bool
) -> str:
    if info.failure:
        reason = info.failure
        if len(reason) > _FAILURE_MAX_CHARS:
            reason = reason[: _FAILURE_MAX_CHARS - 1] + "…"
        attempts = f" (after {info.failure_attempts} tries)" if info.failure_attempts > 1 else ""
        retry = f"; next try in {_duration(retry_in_s)}" if retry_in_s is not None else ""
        return f"gloss failed{attempts}: {escape_markdown(reason, links=links)}{retry}"
    if queue_position is not None:
        ahead = (
            "next in the queue" if queue_position == 0 else f"{queue_position} ahead in the queue"
        )
        return f"gloss pending ({ahead})"
    return "gloss pending"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def facts_json(facts: CodeFacts) -> dict[str, Any]:
    """Every fact, as found (the Markdown block shortens them)."""
    return {
        "effects": [
            {"kind": e.kind.value, "evidence": e.evidence, "line": e.line} for e in facts.effects
        ],
        "raises": [
            {"exception": r.exception, "evidence": r.evidence, "line": r.line, "direct": r.direct}
            for r in facts.raises
        ],
    }


def hover_json(
    info: HoverInfo, queue_position: int | None = None, *, links: bool = False
) -> dict[str, Any]:
    span = info.span
    if info.gloss and not info.stale and info.older_prompt is None:
        state = "fresh"
    else:
        state = "failed" if info.failure else "pending"
    out: dict[str, Any] = {
        "path": span.path,
        "symbol": span.qualname,
        "kind": span.kind,
        "line": span.start_line + 1,
        "end_line": span.end_line + 1,
        "language": span.language,
        "signature": span.signature,
        "docstring_first_line": span.docstring_first_line,
        "content_hash": span.content_hash,
        "state": state,
        "stale": info.stale,
        "older_prompt": info.older_prompt,
        "failure": info.failure,
        "queue_position": queue_position,
        "gloss": None,
        "facts": None if info.facts is None else facts_json(info.facts),
        "markdown": render_hover(info, queue_position, links=links),
    }
    if info.gloss is not None:
        g = info.gloss
        out["gloss"] = {
            "summary": g.gloss.summary,
            "inputs": list(g.gloss.inputs),
            "outputs": list(g.gloss.outputs),
            "side_effects": list(g.gloss.side_effects),
            "pitfalls": list(g.gloss.pitfalls),
            "usage_snippet": g.gloss.usage_snippet,
            "tags": list(g.gloss.tags),
            "model": g.model,
            "tier": g.tier,
            "backend": g.backend,
            "tokens_in": g.tokens_in,
            "tokens_out": g.tokens_out,
            "duration_ms": round(g.duration_ms, 1),
            "attempts": g.attempts,
            "trimmed": g.trimmed,
            "escalations": list(g.escalations),
            "context": g.context,
        }
    return out
