"""Every byte of request text built from a span: redacted here, and only here.

A request to a model carries more of a span than its code: its path, its
qualified name and enclosing scope, its one-line signature (where a default
argument may hold a token), its docstring, and the context a reader has beside
it (`SpanContext`: the module's imports, the enclosing type's outline, the
glosses of the functions it calls). `outbound_span` redacts each of those
fields once, and `build_prompt` takes nothing but that redacted record, so no
field can reach a backend without passing through `redact_secrets`. No other
module builds request text from a span.

The user message: the header lines (path, language, symbol, kind, scope,
signature), then the context parts a request carries (`parts`: chosen per
tier by `prompt_context.fit_context`), then the code. A docstring is shown as
a section of its own, with the ask to add what it does not say; a Python
docstring sits inside the code, so while that section is sent the docstring's
lines in the code are replaced by a one-line marker comment (sent once, not
twice), and so are they in the enclosing class's outline, which keeps its
members' docstrings. Without the section, the code keeps its docstring as
written. A docstring that shares a line with other code (`def f(): '''...'''; x`)
or code that does not parse stays as written: sent twice, never cut wrongly.

The instructions' "at most N" for the inputs list is the span's own bound
(`records.gloss.list_limits` of its parameters and documented inputs), the
very number the router's schema and check use; a span of at most four inputs
gets the text it always had (`SYSTEM_PROMPT`), so no gloss of one is redone.

`PROMPT_VERSION` is part of every gloss's cache key; bump it whenever the text
below changes what a model would write, so old glosses are redone lazily.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache

from enrich_core.llm.documented_inputs import input_count
from enrich_core.llm.redact import Redaction, redact_secrets
from enrich_core.records.context import CONTEXT_PARTS, NO_CONTEXT, CalleeSummary, SpanContext
from enrich_core.records.gloss import LIST_MAX_ITEMS, SUMMARY_MAX_WORDS, list_limits
from enrich_core.records.span import OUTLINED_KINDS, Span, SpanKind
from enrich_core.source.languages import language_named

# 2: the language named for Python too; docstring, outline, callees and imports.
PROMPT_VERSION = "2"

_SYSTEM_PROMPT = """You document code for a developer who hovers over a symbol in their editor.
Answer with one JSON object and nothing else, with exactly these keys:
- "summary": what the code does and why one would call it, in plain words, at most \
{summary_words} words (aim for 1-3 sentences). Do not repeat the code.
- "inputs": each parameter or input it reads, "name: meaning" (at most {inputs_max}).
- "outputs": what it returns or yields, and exceptions it raises.
- "side_effects": I/O, mutation of arguments or globals, network, files, logging.
- "pitfalls": edge cases, surprising behaviour, misuse that bites.
- "usage_snippet": one short example call, as code.
- "tags": a few lowercase topic words.
Use an empty list where a list has nothing true to say. Never write placeholders \
such as "N/A" or "none".
Document only the code under "Code:"; the sections before it are context. \
If a docstring is shown, the reader has read it: add what it does not say instead of \
restating it."""


@lru_cache(maxsize=64)
def system_prompt(inputs_max_items: int) -> str:
    """The instructions, their "at most N" inputs the span's `list_limits` (the schema's
    maxItems). Cached: one string per limit, so a request body encodes it once."""
    return _SYSTEM_PROMPT.format(summary_words=SUMMARY_MAX_WORDS, inputs_max=inputs_max_items)


# For a span whose inputs are not known, and for the checks that read the wording.
SYSTEM_PROMPT = system_prompt(LIST_MAX_ITEMS)

# The section headers of the context parts (the gate's echo check knows them).
DOCSTRING_HEADER = "Docstring (the reader sees it already; add what it does not say):"
CALLEES_HEADER = "Functions it calls (their glosses):"
IMPORTS_HEADER = "Imports:"
# Where a Python docstring stood in the code while the docstring section carries it.
DOCSTRING_MARKER = "# (docstring given in its own section)"


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
    docstring: str | None = None  # the docstring or doc comment, markers removed
    # The 0-based first and last line of `code` that hold the docstring statement,
    # where it has whole lines to itself (Python); None where the code holds none.
    docstring_lines: tuple[int, int] | None = None
    imports: tuple[str, ...] = ()
    outline: str | None = None
    callees: tuple[CalleeSummary, ...] = ()
    # Its parameters and documented inputs (`documented_inputs.input_count`): sizes the
    # inputs list in the prompt, the schema and the check alike (`limits`).
    parameter_count: int | None = None

    @property
    def limits(self) -> dict[str, int]:
        """The most items each list of its gloss may hold (`records.gloss.list_limits`)."""
        return list_limits(self.parameter_count)

    def has(self, part: str) -> bool:
        """Whether this span has anything to send for the context part `part`."""
        if part == "docstring":
            return bool(self.docstring and self.docstring.strip())
        if part == "outline":
            return bool(self.outline and self.outline.strip())
        if part == "imports":
            return bool(self.imports)
        if part == "callees":
            return bool(self.callees)
        raise ValueError(f"unknown context part {part!r}; known: {', '.join(CONTEXT_PARTS)}")


@dataclass(frozen=True, slots=True)
class Prompt:
    messages: tuple[dict[str, str], ...]
    redactions: int
    kinds: tuple[str, ...]

    def as_list(self) -> list[dict[str, str]]:
        return [dict(m) for m in self.messages]


def outbound_span(
    span: Span,
    context: SpanContext = NO_CONTEXT,
    *,
    redact: Callable[[str], Redaction] = redact_secrets,
) -> OutboundSpan:
    """Redact every field of `span`, and every string of its `context`, that a request
    can carry. `redact` is for bench/redaction.py, which measures `redact_secrets`
    against its every-rule baseline."""
    count = 0
    kinds: set[str] = set()

    def clean(text: str) -> str:
        nonlocal count
        redaction = redact(text)
        count += redaction.count
        kinds.update(redaction.kinds)
        return redaction.text

    code = clean(span.text)
    docstring = clean(span.docstring) if span.docstring else None
    return OutboundSpan(
        path=clean(span.path),
        qualname=clean(span.qualname),
        kind=span.kind,
        container=clean(span.container) if span.container else None,
        signature=clean(span.signature),
        code=code,
        language=span.language,
        docstring=docstring,
        docstring_lines=(
            _docstring_lines(code, span.start_col)
            if docstring and span.language == "python"
            else None
        ),
        imports=tuple(clean(line) for line in context.imports),
        outline=clean(context.outline) if context.outline else None,
        callees=tuple(
            CalleeSummary(clean(c.name), clean(c.qualname), clean(c.summary))
            for c in context.callees
        ),
        redactions=count,
        kinds=tuple(sorted(kinds)),
        parameter_count=input_count(span),
    )


def build_prompt(
    span: OutboundSpan, code: str | None = None, parts: Collection[str] = CONTEXT_PARTS
) -> Prompt:
    """The request for one redacted span, with the context `parts` it has (all by
    default; `prompt_context.fit_context` picks them per tier). `code` is the view to
    send when it is not the whole code: a trimmed view cut from `span.code`, which is
    redacted once more (a no-op for text that came from `span.code`) so no caller can
    slip raw text in."""
    redactions, kinds = span.redactions, span.kinds
    if code is None or code is span.code:
        code = span.code
    else:
        again = redact_secrets(code)
        code = again.text
        redactions += again.count
        kinds = tuple(sorted({*kinds, *again.kinds}))
    sent = {part for part in parts if span.has(part)}
    if "docstring" in sent:
        code = _without_docstring(span, code)
    spec = language_named(span.language)
    fence_tag = spec.fence if spec else span.language
    python = span.language == "python"
    lines = [
        f"Path: {span.path}",
        f"Language: {spec.title if spec else span.language}",
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
    # Broad to near: the module, the enclosing type, what it calls, its own docstring.
    if "imports" in sent:
        lines += [IMPORTS_HEADER, *_fenced("\n".join(span.imports), fence_tag)]
    if "outline" in sent and span.outline:
        header = "Enclosing class outline:" if python else "Enclosing type outline:"
        outline = span.outline
        if "docstring" in sent:
            outline = _outline_without_own_docstring(span, outline)
        lines += [header, *_fenced(outline, fence_tag)]
    if "callees" in sent:
        lines.append(CALLEES_HEADER)
        lines += [f"{_one_line(c.name)}: {_one_line(c.summary)}" for c in span.callees]
    if "docstring" in sent and span.docstring:
        lines += [DOCSTRING_HEADER, *_fenced(span.docstring.strip("\n"), "")]
    lines += ["Code:", *_fenced(code, fence_tag)]
    return Prompt(
        messages=(
            {"role": "system", "content": system_prompt(span.limits["inputs"])},
            {"role": "user", "content": "\n".join(lines)},
        ),
        redactions=redactions,
        kinds=kinds,
    )


def prompt_for(span: Span, context: SpanContext = NO_CONTEXT) -> Prompt:
    """The whole-code request for `span` with every part of `context` it has
    (benchmarks and tools that do not route, so fit no budget)."""
    return build_prompt(outbound_span(span, context))


def _fenced(text: str, tag: str) -> list[str]:
    """`text` in a code fence longer than any backtick run inside it."""
    fence = "```"
    while fence in text:
        fence += "`"
    return [f"{fence}{tag}", text.rstrip("\n"), fence]


def _one_line(text: str) -> str:
    # A callee's gloss is a model's text: a newline in it must not start a section.
    return " ".join(text.split())


def _docstring_lines(code: str, indent: int) -> tuple[int, int] | None:
    """The lines of a Python definition's docstring statement, when it has whole lines
    to itself (not on the header line, nothing after it); None otherwise, or when the
    code does not parse (a recovered span): then the code is sent as written."""
    # The span's first line was cut at its column; the lines below keep theirs.
    lines = textwrap.dedent(" " * indent + code).splitlines()
    try:
        tree = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError):
        return None
    if not tree.body or not isinstance(
        definition := tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    ):
        return None
    statement = definition.body[0] if definition.body else None
    if not (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
        and statement.end_lineno is not None
        and statement.end_col_offset is not None
    ):
        return None
    first, last = statement.lineno - 1, statement.end_lineno - 1
    if first == 0 or last >= len(lines):
        return None
    # ast's columns count UTF-8 bytes.
    before = lines[first].encode()[: statement.col_offset]
    after = lines[last].encode()[statement.end_col_offset :]
    if before.strip() or after.strip():
        return None
    return first, last


def _outline_without_own_docstring(span: OutboundSpan, outline: str) -> str:
    """The enclosing type's outline with this member's own docstring replaced by the
    marker, as in the code: a type's outline keeps its members' docstrings, so the
    member's would be sent twice. Found by its lines, which a Python outline holds as
    the member's code does (same indentation); an outline that does not is sent whole."""
    if span.docstring_lines is None:
        return outline
    first, last = span.docstring_lines
    own = span.code.splitlines()
    header, docstring = own[first - 1].strip(), own[first : last + 1]
    lines = outline.splitlines()
    for at in range(1, len(lines) - len(docstring) + 1):
        if lines[at : at + len(docstring)] == docstring and lines[at - 1].strip() == header:
            indent = docstring[0][: len(docstring[0]) - len(docstring[0].lstrip())]
            marked = [*lines[:at], f"{indent}{DOCSTRING_MARKER}", *lines[at + len(docstring) :]]
            return "\n".join(marked)
    return outline


def _without_docstring(span: OutboundSpan, code: str) -> str:
    """`code` with the docstring's lines replaced by a marker, where `code` holds them
    as `span.code` does (the whole code, or a trimmed view whose head kept them)."""
    if span.docstring_lines is None:
        return code
    first, last = span.docstring_lines
    lines = code.splitlines()
    whole = span.code.splitlines()
    if lines[: last + 1] != whole[: last + 1]:
        return code
    indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
    return "\n".join([*lines[:first], f"{indent}{DOCSTRING_MARKER}", *lines[last + 1 :]])
