"""What a span is: one function, method, class or kin, located, named and hashed.

The source stage cuts `Span`s (with their text) from files; the store keeps
`SpanRecord`s (the same fields without the text, plus the hash the span had
before its last edit). Both are a `SpanHead`, so no field is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from operator import attrgetter

__all__ = [
    "OUTLINED_KINDS",
    "SPANS_VERSION",
    "Span",
    "SpanHead",
    "SpanKind",
    "SpanRecord",
    "first_line",
]

# How files are cut into spans and hashed. Bump it when a change gives spans of
# unchanged files other texts or hashes: stores made before then re-parse every
# file once (their recorded hashes would never be found again otherwise).
# 2: a class's text is its outline, without method bodies.
# 3: definitions after a syntax error that swallowed them are recovered.
SPANS_VERSION = "3"


class SpanKind(StrEnum):
    FUNCTION = "function"
    ASYNC_FUNCTION = "async_function"
    METHOD = "method"
    ASYNC_METHOD = "async_method"
    CLASS = "class"
    INTERFACE = "interface"
    STRUCT = "struct"
    ENUM = "enum"
    TRAIT = "trait"
    MODULE = "module"


# Types and their kin: their text is an outline with member bodies cut to `...`,
# since each member has a span and a gloss of its own.
OUTLINED_KINDS: frozenset[SpanKind] = frozenset(
    {
        SpanKind.CLASS,
        SpanKind.INTERFACE,
        SpanKind.STRUCT,
        SpanKind.ENUM,
        SpanKind.TRAIT,
        SpanKind.MODULE,
    }
)


@dataclass(frozen=True, slots=True)
class SpanHead:
    """One definition without its text: what the store keeps and reads back.

    Lines are 0-based; columns count UTF-16 code units, as LSP does. The
    docstring is the language's documentation of the definition: Python's
    docstring, or the doc comment above it (JSDoc, `///`, Go's `//` block...)
    with the comment markers removed."""

    path: str
    name: str
    qualname: str
    kind: SpanKind
    container: str | None
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    name_line: int
    name_col: int
    name_end_col: int
    header_end_line: int
    signature: str
    docstring: str | None
    content_hash: str
    # The language row's name (`python`, `go`, `tsx`, ...): see source/languages.
    language: str

    @property
    def docstring_first_line(self) -> str | None:
        return first_line(self.docstring)


@dataclass(frozen=True, slots=True)
class Span(SpanHead):
    """A definition as cut from source, with its text: what a model is shown."""

    text: str
    # The parameter names read from its header; None where they cannot be known
    # (a type, or a language whose query names no parameters).
    parameters: frozenset[str] | None = None

    def __reduce__(self) -> tuple[type[Span], tuple[object, ...]]:
        # Parse workers pickle every span of a first scan (11,000 for Django): as its
        # fields' values this takes half the time of dataclasses' per-object state.
        return (Span, _span_values(self))


_span_values = attrgetter(*(f.name for f in fields(Span)))


@dataclass(frozen=True, slots=True)
class SpanRecord(SpanHead):
    """A definition as the store holds it, with the hash it had before its last edit."""

    prev_hash: str | None


def first_line(docstring: str | None) -> str | None:
    """The first non-blank line of a docstring, stripped; None if there is none."""
    for line in (docstring or "").splitlines():
        if line.strip():
            return line.strip()
    return None
