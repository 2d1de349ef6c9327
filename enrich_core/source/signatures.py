"""A definition's header as one line: its signature, as hovers and prompts show it.

The header runs from the definition (its `export`, `template <...>` or Go
`type` included, its decorators and attributes not) to its body. Comments,
layout and a trailing comma go; whitespace between two tokens becomes one
space, none just inside brackets, so a header wrapped over several lines reads
like the one-line version. Most headers hold no comment and no string and are
flattened from their text; the others are re-joined from their tokens. Both
ways give the same line (tests/test_languages.py checks it on every sample and
on this repository).
"""

from __future__ import annotations

import re

from tree_sitter import Node

from enrich_core.source.languages import LanguageSpec
from enrich_core.source.tree_text import Positions, decode

__all__ = ["signature"]

# Layout that may sit between header tokens but is not part of a signature.
_LAYOUT = frozenset({"line_continuation"})
_OPENERS = frozenset({"(", "[", "{"})
_CLOSERS = frozenset({")", "]", "}"})
# Where no body is found (a Rust trait's `fn f();`, a Go `type A int`), the whole
# node is the header; past this many characters the signature is cut, marked `…`.
_HEADERLESS_SIGNATURE_CHARS = 300


def signature(
    spec: LanguageSpec,
    data: bytes,
    positions: Positions,
    signature_start: Node,
    header_end: int,
    body: Node | None,
    name: Node,
) -> tuple[str, int | None]:
    """(the one-line signature, the line the header's last token is on; None
    without tokens), for the header from `signature_start` to `header_end`."""
    line, header_end_line = _line(spec, data, positions, signature_start, header_end, body)
    if body is not None and name.start_byte >= body.end_byte:
        # C's `typedef struct { ... } map`: the name comes after the body.
        after = header_tokens(signature_start, name.end_byte, spec.comments)
        tail = [t for t in after if t.start_byte >= body.end_byte]
        line = f"{line} {{ ... }} {join_tokens(tail, data)}"
    if body is None and len(line) > _HEADERLESS_SIGNATURE_CHARS:
        line = line[:_HEADERLESS_SIGNATURE_CHARS].rstrip() + "…"
    return line, header_end_line


def _line(
    spec: LanguageSpec,
    data: bytes,
    positions: Positions,
    signature_start: Node,
    header_end: int,
    body: Node | None,
) -> tuple[str, int | None]:
    """The header's line and the line its last token is on: from its text, less a
    trailing `:` / `;` / `end`, when it holds no comment or string; else `_joined`."""
    first = signature_start.start_byte
    end = plain_header_end(data, first, header_end, whole=body is None)
    if end is None:
        return _joined(spec, data, positions, signature_start, header_end, body)
    header_end_line = positions.line(end - 1)
    while end > first:
        last = signature_start.descendant_for_byte_range(end - 1, end)
        if last is None or last.type not in spec.header_trailers or last.end_byte != end:
            break
        # Python's ':', a prototype's ';': not the signature.
        end = first + len(data[first : last.start_byte].rstrip())
    return flat_header(data[first:end]), header_end_line


def _joined(
    spec: LanguageSpec,
    data: bytes,
    positions: Positions,
    signature_start: Node,
    header_end: int,
    body: Node | None,
) -> tuple[str, int | None]:
    """`_line` by walking the header's tokens: re-joined on one line, without
    comments, layout or a trailing comma."""
    tokens = header_tokens(signature_start, header_end, spec.comments)
    if body is None:
        # A type with no body field (Go's `type Store struct {...}`): up to its brace.
        brace = next((i for i, t in enumerate(tokens) if t.type == "{"), None)
        tokens = tokens[:brace] if brace is not None else tokens
    header_end_line = positions.at(tokens[-1].start_byte)[0] if tokens else None
    while tokens and tokens[-1].type in spec.header_trailers:
        tokens = tokens[:-1]  # Python's ':', a prototype's ';': not the signature
    return join_tokens(tokens, data), header_end_line


def header_tokens(node: Node, end_byte: int, comments: frozenset[str]) -> list[Node]:
    """The tokens of ``node`` that start before ``end_byte`` (where its body begins),
    without comments, zero-width tokens or a trailing comma before a closing bracket."""
    skip = comments | _LAYOUT
    tokens: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.start_byte >= end_byte:
            continue
        if current.type in skip or current.start_byte == current.end_byte:
            continue
        # A string is one token: its inner spacing is its value, not layout.
        if "string" in current.type or current.child_count == 0:
            if current.type == "," and _is_trailing_comma(current, skip):
                continue
            tokens.append(current)
            continue
        stack.extend(reversed(current.children))
    return tokens


# What only the header's tokens can tell: a comment, a string literal (whose
# spacing is its value), a line continuation, Ruby's `%w[...]`.
_NEEDS_TOKENS = re.compile(rb"//|/\*|#|[\"'`\\%]")
_LAYOUT_BYTES = re.compile(rb"\s\s|[\t\n\r\x0b\x0c]")
_SPACE = re.compile(rb"\s+")
_TRAILING_COMMA = re.compile(rb", ?([)\]}])")
_AFTER_OPENER = re.compile(rb"([(\[{]) ")
_BEFORE_CLOSER = re.compile(rb" ([)\]}])")


# A double-quoted string none of `flat_header`'s rules can reach into (no space,
# comma or escape in it: `@SuppressWarnings("unchecked")`), and a Rust lifetime
# (`'de`, never followed by a closing quote as a character literal is).
_INERT_STRING = re.compile(rb'"[^"\s,\\]*"')
_LIFETIME = re.compile(rb"'[A-Za-z_][A-Za-z0-9_]*\b(?!')")


def plain_header_end(data: bytes, start: int, end: int, *, whole: bool = False) -> int | None:
    """Where a header's text ends (trailing whitespace left out), if `flat_header`
    can stand for walking its tokens: no comment and no string it could change,
    so its tokens are exactly what whitespace separates. `whole`: the header is
    the whole definition (no body), read up to a `{`, so it must hold none.
    None: walk the tokens."""
    text = data[start:end].rstrip()
    if not text or (whole and b"{" in text):
        return None
    probe = text
    if b'"' in probe:
        probe = _INERT_STRING.sub(b"", probe)
    if b"'" in probe:
        probe = _LIFETIME.sub(b"", probe)
    if _NEEDS_TOKENS.search(probe):
        return None
    return start + len(text)


def flat_header(text: bytes) -> str:
    """`join_tokens` of a header `plain_header_end` accepted, from its text: one space
    for each run of whitespace, no trailing comma, none just inside a bracket.
    Walking the tokens of every header was a fifth of the cost of cutting a file."""
    if _LAYOUT_BYTES.search(text):
        text = _SPACE.sub(b" ", text)
    if b"," in text:
        text = _TRAILING_COMMA.sub(rb"\1", text)
    if b"( " in text or b"[ " in text or b"{ " in text:
        text = _AFTER_OPENER.sub(rb"\1", text)
    if b" )" in text or b" ]" in text or b" }" in text:
        text = _BEFORE_CLOSER.sub(rb"\1", text)
    return decode(text)


def join_tokens(tokens: list[Node], data: bytes) -> str:
    """A header as one line.

    Tokens are re-joined: whitespace between two tokens becomes one space, and
    none is kept just inside brackets, so a header wrapped over several lines
    reads like the one-line version.
    """
    parts: list[str] = []
    previous: Node | None = None
    previous_text = ""
    for token in tokens:
        token_text = decode(data[token.start_byte : token.end_byte])
        if "\n" in token_text or "\r" in token_text:
            # A multi-line string default: the signature must stay on one line.
            token_text = " ".join(token_text.split())
        if (
            previous is not None
            and token.start_byte > previous.end_byte
            and previous_text not in _OPENERS
            and token_text not in _CLOSERS
        ):
            parts.append(" ")
        parts.append(token_text)
        previous, previous_text = token, token_text
    return "".join(parts)


def _is_trailing_comma(comma: Node, skip: frozenset[str]) -> bool:
    """A comma formatters leave before the closing bracket of a wrapped header."""
    following = comma.next_sibling
    while following is not None and following.type in skip:
        following = following.next_sibling
    return following is not None and following.type in _CLOSERS
