"""Every byte of request text built from a span: redacted here, and only here.

A request to a model carries more of a span than its code: its path, its
qualified name and enclosing scope, its one-line signature (where a default
argument may hold a token), and later other context. `outbound_span` redacts
each of those fields once, and `build_prompt` takes nothing but that redacted
record, so no field can reach a backend without passing through
`redact_secrets`. No other module builds request text from a span.

`PROMPT_VERSION` is part of every gloss's cache key; bump it whenever the text
below changes what a model would write, so old glosses are redone lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from enrich_core.llm.redact import Redaction, redact_secrets
from enrich_core.records.gloss import LIST_MAX_ITEMS, SUMMARY_MAX_WORDS
from enrich_core.records.span import OUTLINED_KINDS, Span, SpanKind
from enrich_core.source.languages import language_named

PROMPT_VERSION = "1"

SYSTEM_PROMPT = f"""You document code for a developer who hovers over a symbol in their editor.
Answer with one JSON object and nothing else, with exactly these keys:
- "summary": what the code does and why one would call it, in plain words, at most \
{SUMMARY_MAX_WORDS} words (aim for 1-3 sentences). Do not repeat the code.
- "inputs": each parameter or input it reads, "name: meaning" (at most {LIST_MAX_ITEMS}).
- "outputs": what it returns or yields, and exceptions it raises.
- "side_effects": I/O, mutation of arguments or globals, network, files, logging.
- "pitfalls": edge cases, surprising behaviour, misuse that bites.
- "usage_snippet": one short example call, as code.
- "tags": a few lowercase topic words.
Use an empty list where a list has nothing true to say. Never write placeholders \
such as "N/A" or "none"."""


@dataclass(frozen=True, slots=True)
class OutboundSpan:
    """The fields of a span a request may carry, each already redacted.

    Made by `outbound_span`; routing measures and trims `code` from here, so a
    trimmed view is cut from text that holds no secret."""

    path: str
    qualname: str
    kind: SpanKind
    container: str | None
    signature: str
    code: str
    language: str  # the language table's row name: not from the code, never redacted
    redactions: int  # secrets replaced, counted per field (the signature is also in the code)
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Prompt:
    messages: tuple[dict[str, str], ...]
    redactions: int
    kinds: tuple[str, ...]

    def as_list(self) -> list[dict[str, str]]:
        return [dict(m) for m in self.messages]


def outbound_span(span: Span, redact: Callable[[str], Redaction] = redact_secrets) -> OutboundSpan:
    """Redact every field of `span` that a request can carry. `redact` is for
    bench/redaction.py, which measures `redact_secrets` against its every-rule baseline."""
    count = 0
    kinds: set[str] = set()

    def clean(text: str) -> str:
        nonlocal count
        redaction = redact(text)
        count += redaction.count
        kinds.update(redaction.kinds)
        return redaction.text

    return OutboundSpan(
        path=clean(span.path),
        qualname=clean(span.qualname),
        kind=span.kind,
        container=clean(span.container) if span.container else None,
        signature=clean(span.signature),
        code=clean(span.text),
        language=span.language,
        redactions=count,
        kinds=tuple(sorted(kinds)),
    )


def build_prompt(span: OutboundSpan, code: str | None = None) -> Prompt:
    """The request for one redacted span. `code` is the view to send when it is not the
    whole code: a trimmed view cut from `span.code`, which is redacted once more (a
    no-op for text that came from `span.code`) so no caller can slip raw text in."""
    redactions, kinds = span.redactions, span.kinds
    if code is None or code is span.code:
        code = span.code
    else:
        again = redact_secrets(code)
        code = again.text
        redactions += again.count
        kinds = tuple(sorted({*kinds, *again.kinds}))
    spec = language_named(span.language)
    # Python's request is the text every stored Python gloss was written from, so
    # it stays byte for byte (PROMPT_VERSION holds): the fence names the language.
    # Every other language is named in words as well, since a fence tag such as
    # `c` or `cs` is easy for a small model to miss.
    python = span.language == "python"
    lines = [f"Path: {span.path}"]
    if not python:
        lines.append(f"Language: {spec.title if spec else span.language}")
    lines += [
        f"Symbol: {span.qualname}",
        f"Kind: {span.kind.value.replace('_', ' ')}",
    ]
    if span.container:
        lines.append(f"Enclosing scope: {span.container}")
    lines.append(f"Signature: {span.signature}")
    if span.kind in OUTLINED_KINDS:
        lines.append(
            "Method bodies are shown as `...`: each method has a gloss of its own."
            if python
            else "Member bodies are cut to `...`: each member has a gloss of its own."
        )
    fence = "```"
    while fence in code:
        fence += "`"
    lines += ["Code:", f"{fence}{spec.fence if spec else span.language}", code.rstrip("\n"), fence]
    return Prompt(
        messages=(
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "\n".join(lines)},
        ),
        redactions=redactions,
        kinds=kinds,
    )


def prompt_for(span: Span) -> Prompt:
    """The whole-code request for `span` (benchmarks and tools that do not route)."""
    return build_prompt(outbound_span(span))
