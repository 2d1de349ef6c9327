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
import re
import textwrap
from collections.abc import Iterator

import tree_sitter_python
from tree_sitter import Language, Node, Parser

from enrich_core.records.span import Span, SpanKind
from enrich_core.source import tree_text as syntax
from enrich_core.source.tree_text import Positions

__all__ = ["extract_spans"]


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
_NON_SPACE = re.compile(r"\S")
_HASH_PREFIX = b"python\0"


def extract_spans(path: str, source: str) -> list[Span]:
    """Return the spans of ``source`` in source order (a class before its methods).

    ``path`` is stored on each span as given (a workspace-relative POSIX path).
    """
    # surrogatepass: editor buffers can carry lone surrogates; they must not make
    # the whole file unparsable, and decoding back restores them unchanged.
    data = source.encode("utf-8", "surrogatepass")
    tree = Parser(_LANGUAGE).parse(data)
    positions = Positions(data)
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
    return syntax.decode(text) if text is not None else None


def _make_span(
    path: str,
    data: bytes,
    positions: Positions,
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
    end = syntax.last_code_byte(node)

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
    colon = syntax.header_colon(node)
    header_end_line = positions.at(colon.start_byte)[0] if colon is not None else name_line

    if kind is SpanKind.CLASS:
        text = _class_outline(node, data, positions, start, end)
    else:
        text = syntax.decode(data[start:end])
    indent = syntax.decode(data[positions.line_start(start) : start])
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
        signature=syntax.signature(node, data),
        docstring=syntax.docstring(node, data),
        text=text,
        content_hash=_content_hash(indent, text),
    )


def _class_outline(node: Node, data: bytes, positions: Positions, start: int, end: int) -> str:
    """A class's code with each method's body cut to its docstring and `...`.

    Methods are spans of their own with glosses of their own; what a class's
    gloss says comes from its header, docstring, attributes and method
    signatures. So its text (what the model reads, and what its hash covers)
    leaves the bodies out: editing a method body re-glosses that method, not
    its class as well, and a large class fits a small model's context whole.
    """
    cuts: list[tuple[int, int, bytes]] = []
    stack = [c for c in node.children if c.type in _MAY_HOLD_DEFINITIONS]
    while stack:
        child = stack.pop()
        if child.type == "function_definition":
            body = child.child_by_field_name("body")
            cut = _body_cut(body, data, positions) if body is not None else None
            if cut is not None:
                cuts.append(cut)
            continue  # what is inside a method's body is not part of the outline
        stack.extend(c for c in child.children if c.type in _MAY_HOLD_DEFINITIONS)
    # Bodies never nest here (none is entered), so the cuts are disjoint.
    out = bytearray()
    pos = start
    for cut_start, cut_end, replacement in sorted(cuts):
        out += data[pos:cut_start] + replacement
        pos = min(cut_end, end)  # the span ends at its last code, before trailing comments
    out += data[pos:end]
    return syntax.decode(bytes(out))


def _body_cut(body: Node, data: bytes, positions: Positions) -> tuple[int, int, bytes] | None:
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
        same_line = indent.strip() != b""  # `def f(): "doc"; return 1`
        separator = b"; " if same_line else b"\n" + indent
        return first.end_byte, body.end_byte, separator + b"..."
    if len(statements) == 1 and data[first.start_byte : first.end_byte] == b"...":
        return None
    # To the block's end: comments tree-sitter attaches after its last statement go too.
    return first.start_byte, body.end_byte, b"..."


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
    normalised = syntax.normalise_newlines(prefix + text)
    dedented = textwrap.dedent(normalised)
    return hashlib.sha256(_HASH_PREFIX + dedented.encode("utf-8", "surrogatepass")).hexdigest()
