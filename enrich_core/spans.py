"""Cut Python source into spans: every function, method and class, at any depth.

A span is the unit Gloss enriches, caches and shows: its exact LSP range (UTF-16
columns), its qualified name, a one-line signature, its docstring, its text and
a content hash that decides whether an existing gloss is still valid.

The spans come from tree-sitter, so a file with a syntax error still yields
every definition the parser can recover, with exact ranges.

This module must never guess: no regex parsing of Python, no invented names or
docstrings, and no I/O. It gets a path and a string and returns plain records.
"""

from __future__ import annotations

import hashlib
import inspect
import re
import textwrap
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import tree_sitter_python
from tree_sitter import Language, Node, Parser

__all__ = ["Span", "SpanKind", "extract_spans", "first_line"]


class SpanKind(StrEnum):
    FUNCTION = "function"
    ASYNC_FUNCTION = "async_function"
    METHOD = "method"
    ASYNC_METHOD = "async_method"
    CLASS = "class"


@dataclass(frozen=True, slots=True)
class Span:
    """One definition. Lines are 0-based; columns count UTF-16 code units, as LSP does."""

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
    text: str
    content_hash: str

    @property
    def docstring_first_line(self) -> str | None:
        return first_line(self.docstring)


def first_line(docstring: str | None) -> str | None:
    """The first non-blank line of a docstring, stripped; None if there is none."""
    for line in (docstring or "").splitlines():
        if line.strip():
            return line.strip()
    return None


# The Language wraps an immutable, static grammar table, so one is shared by all
# callers. Parsers are not thread-safe, but creating one costs well under a
# microsecond (measured against tens of microseconds for even a tiny parse), so
# extract_spans makes its own and can be called from any number of threads.
_LANGUAGE = Language(tree_sitter_python.language())

_DEFINITIONS = frozenset({"function_definition", "class_definition"})
# Nodes a definition can be, or be nested in: statements with blocks, and the
# ERROR nodes of a file that does not parse (definitions inside are recovered).
_MAY_HOLD_DEFINITIONS = _DEFINITIONS | frozenset(
    {
        "module",
        "block",
        "decorated_definition",
        "if_statement",
        "elif_clause",
        "else_clause",
        "for_statement",
        "while_statement",
        "try_statement",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "with_statement",
        "match_statement",
        "case_clause",
        "ERROR",
    }
)
# Extras that may sit between header tokens but are not part of a signature.
_SIGNATURE_SKIP = frozenset({"comment", "line_continuation"})
_OPENERS = frozenset({"(", "[", "{"})
_CLOSERS = frozenset({")", "]", "}"})
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_NEWLINES = re.compile(r"\r\n|\r")
_NON_SPACE = re.compile(r"\S")
_HASH_PREFIX = b"python\0"
# How files are cut into spans and hashed. Bump it when a change gives spans of
# unchanged files other texts or hashes: stores made before then re-parse every
# file once (their recorded hashes would never be found again otherwise).
# 2: a class's text is its outline, without method bodies.
SPANS_VERSION = "2"


def extract_spans(path: str, source: str) -> list[Span]:
    """Return the spans of ``source`` in source order (a class before its methods).

    ``path`` is stored on each span as given (a workspace-relative POSIX path).
    """
    # surrogatepass: editor buffers can carry lone surrogates; they must not make
    # the whole file unparsable, and decoding back restores them unchanged.
    data = source.encode("utf-8", "surrogatepass")
    tree = Parser(_LANGUAGE).parse(data)
    positions = _Positions(data)
    spans: list[Span] = []
    for node, container, in_class in _definitions(tree.root_node):
        span = _make_span(path, data, positions, node, container, in_class)
        if span is not None:
            spans.append(span)
    return spans


def _definitions(root: Node) -> Iterator[tuple[Node, str | None, bool]]:
    """Yield (definition node, container qualname, directly in a class) in pre-order.

    Iterative, because deeply nested code (or a pathological generated file)
    must not hit Python's recursion limit.
    """
    stack: list[tuple[Node, str | None, bool]] = [(root, None, False)]
    while stack:
        node, container, in_class = stack.pop()
        child_container, child_in_class = container, in_class
        if node.type in _DEFINITIONS:
            name = _name_text(node)
            if name is not None:
                yield node, container, in_class
                child_container = f"{container}.{name}" if container else name
                child_in_class = node.type == "class_definition"
        # Control-flow blocks (if/try/with/...) are not scopes, so they pass the
        # container through unchanged: a def under `if` in a class body is a method.
        # Only statement containers are entered: expressions, the bulk of a
        # tree's nodes, cannot hold a definition.
        stack.extend(
            (child, child_container, child_in_class)
            for child in reversed(node.children)
            if child.type in _MAY_HOLD_DEFINITIONS
        )


def _name_text(node: Node) -> str | None:
    name = node.child_by_field_name("name")
    # A MISSING name is a zero-width node tree-sitter inserted during recovery.
    if name is None or name.is_missing or name.start_byte == name.end_byte:
        return None
    text = name.text
    return _decode(text) if text is not None else None


def _make_span(
    path: str,
    data: bytes,
    positions: _Positions,
    node: Node,
    container: str | None,
    in_class: bool,
) -> Span | None:
    name_node = node.child_by_field_name("name")
    name = _name_text(node)
    if name_node is None or name is None:
        return None
    parent = node.parent
    outer = parent if parent is not None and parent.type == "decorated_definition" else node
    start = outer.start_byte
    end = _last_code_byte(node)

    if node.type == "class_definition":
        kind = SpanKind.CLASS
    else:
        is_async = any(child.type == "async" for child in node.children)
        if in_class:
            kind = SpanKind.ASYNC_METHOD if is_async else SpanKind.METHOD
        else:
            kind = SpanKind.ASYNC_FUNCTION if is_async else SpanKind.FUNCTION

    start_line, start_col = positions.at(start)
    end_line, end_col = positions.at(end)
    name_line, name_col = positions.at(name_node.start_byte)
    _, name_end_col = positions.at(name_node.end_byte)
    colon = _header_colon(node)
    header_end_line = positions.at(colon.start_byte)[0] if colon is not None else name_line

    if kind is SpanKind.CLASS:
        text = _class_outline(node, data, positions, start, end)
    else:
        text = _decode(data[start:end])
    indent = _decode(data[positions.line_start(start) : start])
    return Span(
        path=path,
        name=name,
        qualname=f"{container}.{name}" if container else name,
        kind=kind,
        container=container,
        start_line=start_line,
        start_col=start_col,
        end_line=end_line,
        end_col=end_col,
        name_line=name_line,
        name_col=name_col,
        name_end_col=name_end_col,
        header_end_line=header_end_line,
        signature=_signature(node, data),
        docstring=_docstring(node, data),
        text=text,
        content_hash=_content_hash(indent, text),
    )


def _class_outline(node: Node, data: bytes, positions: _Positions, start: int, end: int) -> str:
    """A class's code with each method's body cut to its docstring and `...`.

    Methods are spans of their own with glosses of their own; what a class's
    gloss says comes from its header, docstring, attributes and method
    signatures. So its text (what the model reads, and what its hash covers)
    leaves the bodies out: editing a method body re-glosses that method, not
    its class as well, and a large class fits a small model's context whole.
    """
    cuts: list[tuple[int, int, bytes]] = []
    stack = list(node.children)
    while stack:
        child = stack.pop()
        if child.type == "function_definition":
            body = child.child_by_field_name("body")
            cut = _body_cut(body, data, positions) if body is not None else None
            if cut is not None:
                cuts.append(cut)
            continue  # what is inside a method's body is not part of the outline
        stack.extend(child.children)
    out = bytearray()
    pos = start
    for cut_start, cut_end, replacement in sorted(cuts):
        cut_end = min(cut_end, end)  # the span ends at its last code, before trailing comments
        if cut_start < pos or cut_end < cut_start:
            continue
        out += data[pos:cut_start] + replacement
        pos = cut_end
    out += data[pos:end]
    return _decode(bytes(out))


def _body_cut(body: Node, data: bytes, positions: _Positions) -> tuple[int, int, bytes] | None:
    """(start, end, replacement) that cuts a function body down to its docstring and `...`;
    None when there is nothing to cut."""
    statements = [c for c in body.named_children if c.type != "comment"]
    if not statements:
        return None
    first = statements[0]
    has_docstring = (
        first.type == "expression_statement"
        and first.named_child_count == 1
        and first.named_children[0].type in ("string", "concatenated_string")
    )
    if has_docstring:
        if len(statements) == 1:
            return None
        indent = data[positions.line_start(first.start_byte) : first.start_byte]
        same_line = not indent.strip() == b""  # `def f(): "doc"; return 1`
        separator = b"; " if same_line else b"\n" + indent
        return first.end_byte, body.end_byte, separator + b"..."
    if len(statements) == 1 and data[first.start_byte : first.end_byte] == b"...":
        return None
    # To the block's end: comments tree-sitter attaches after its last statement go too.
    return first.start_byte, body.end_byte, b"..."


def _last_code_byte(node: Node) -> int:
    """End of the last token of ``node`` that is not a comment.

    tree-sitter attaches comments that follow the last statement to the block;
    a span ends with its code so that its range and hash ignore such trailers.
    """
    current = node
    while True:
        code_children = [
            c for c in current.children if c.type != "comment" and c.start_byte != c.end_byte
        ]
        if not code_children:
            return current.end_byte
        current = code_children[-1]


def _header_colon(node: Node) -> Node | None:
    for child in node.children:
        if child.type == ":":
            return child
        if child.type == "block":
            break
    return None


def _signature(node: Node, data: bytes) -> str:
    """The def/class header as one line, without decorators, comments or the ':'.

    Tokens are re-joined: whitespace between two tokens becomes one space, and
    none is kept just inside brackets, so a header wrapped over several lines
    reads like the one-line version. A trailing comma before a closing bracket
    (left by formatters on wrapped headers) is dropped.
    """
    tokens: list[Node] = []
    for child in node.children:
        if child.type in (":", "block"):
            break
        tokens.extend(_signature_tokens(child))
    parts: list[str] = []
    previous: Node | None = None
    previous_text = ""
    for token in tokens:
        token_text = _decode(data[token.start_byte : token.end_byte])
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


def _signature_tokens(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in _SIGNATURE_SKIP or current.start_byte == current.end_byte:
            continue
        # A string is one token: its inner spacing is its value, not layout.
        if current.type == "string" or current.child_count == 0:
            if current.type == "," and _is_trailing_comma(current):
                continue
            yield current
            continue
        stack.extend(reversed(current.children))


def _is_trailing_comma(comma: Node) -> bool:
    following = comma.next_sibling
    while following is not None and following.type in _SIGNATURE_SKIP:
        following = following.next_sibling
    return following is not None and following.type in _CLOSERS


def _docstring(node: Node, data: bytes) -> str | None:
    """The docstring as Python sees it (``__doc__``), cleaned like inspect.cleandoc."""
    body = node.child_by_field_name("body")
    if body is None:
        return None
    first = next((c for c in body.named_children if c.type != "comment"), None)
    if first is None or first.type != "expression_statement":
        return None
    expressions = [c for c in first.named_children if c.type != "comment"]
    if len(expressions) != 1:
        return None
    expression = expressions[0]
    while expression.type == "parenthesized_expression":
        inner = [c for c in expression.named_children if c.type != "comment"]
        if len(inner) != 1:
            return None
        expression = inner[0]
    if expression.type == "string":
        pieces = [expression]
    elif expression.type == "concatenated_string":
        pieces = [c for c in expression.named_children if c.type == "string"]
    else:
        return None
    values: list[str] = []
    for piece in pieces:
        value = _string_value(piece, data)
        if value is None:
            return None
        values.append(value)
    return inspect.cleandoc("".join(values))


def _string_value(node: Node, data: bytes) -> str | None:
    """Value of a plain or raw str literal; None for f-, t- and bytes literals."""
    children = node.children
    if len(children) < 2:
        return None
    start, end = children[0], children[-1]
    if start.type != "string_start" or end.type != "string_end" or end.is_missing:
        return None
    opener = _decode(data[start.start_byte : start.end_byte])
    prefix = opener.rstrip("'\"").lower()
    # An f-string is never a docstring (it is an expression, __doc__ stays None);
    # a bytes literal is not a str.
    if any(letter in prefix for letter in "fbt"):
        return None
    content = _decode(data[start.end_byte : end.start_byte])
    content = _NEWLINES.sub("\n", content)
    return content if "r" in prefix else _unescape(content)


_ESCAPE = re.compile(
    r"\\(?:(\n)|([\\'\"abfnrtv])|([0-7]{1,3})|x([0-9a-fA-F]{2})"
    r"|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|N\{([^}]+)\})"
)
_SIMPLE_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}


def _unescape(content: str) -> str:
    """Python's escape rules for str literals.

    Done here rather than with ast.literal_eval or the unicode_escape codec
    because both emit warnings on unknown escapes such as ``\\d``, and
    silencing warnings is process-global; unknown escapes stay as written,
    as Python keeps them.
    """

    def replace(match: re.Match[str]) -> str:
        newline, simple, octal, hex2, hex4, hex8, named = match.groups()
        if newline is not None:
            return ""
        if simple is not None:
            return _SIMPLE_ESCAPES[simple]
        if octal is not None:
            return chr(int(octal, 8))
        digits = hex2 or hex4 or hex8
        if digits is not None:
            code = int(digits, 16)
            return chr(code) if code <= 0x10FFFF else match.group(0)
        try:
            return unicodedata.lookup(named)
        except KeyError:
            return match.group(0)

    return _ESCAPE.sub(replace, content)


def _content_hash(indent: str, text: str) -> str:
    """sha256 of the span's code with its common indentation removed.

    The first line's indentation is restored before dedenting so the span
    dedents as a block: a method moved to module level (or a module-level
    function re-indented) keeps its hash, any other edit changes it. Line
    endings are normalised so that a checkout with CRLF endings does not make
    every span look changed.
    """
    # Anything but whitespace before the span on its first line (`x = 1; def f()`)
    # counts as indentation of the same width.
    prefix = _NON_SPACE.sub(" ", indent)
    normalised = _NEWLINES.sub("\n", prefix + text)
    dedented = textwrap.dedent(normalised)
    return hashlib.sha256(_HASH_PREFIX + dedented.encode("utf-8", "surrogatepass")).hexdigest()


class _Positions:
    """Byte offsets to LSP positions (line, UTF-16 column).

    Lines break at \\r\\n, \\r and \\n, as LSP and Python both count them;
    tree-sitter's own rows only count \\n, so they are not used.
    """

    __slots__ = ("_data", "_starts")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._starts = [0, *(m.end() for m in _LINE_BREAK.finditer(data))]

    def line_start(self, offset: int) -> int:
        return self._starts[bisect_right(self._starts, offset) - 1]

    def at(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._starts, offset) - 1
        prefix = self._data[self._starts[line] : offset]
        if prefix.isascii():
            return line, len(prefix)
        decoded = _decode(prefix)
        return line, len(decoded.encode("utf-16-le", "surrogatepass")) // 2


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        # Only reachable when tree-sitter cut through bytes that were never valid
        # UTF-8; a replacement character is better than losing the whole file.
        return data.decode("utf-8", "replace")
