"""Reading source through its tree-sitter tree: positions, code ends, docstrings.

What `spans` needs of the syntax, kept apart from what a span is: byte offsets
as LSP positions (UTF-16 columns), where a definition's code ends, its
docstring as Python sees it (string literals unescaped as the compiler would),
and the text helpers the content hash needs. A header as one line is
`source.signatures`'. No guessing: what cannot be read exactly is None.
"""

from __future__ import annotations

import inspect
import re
import unicodedata
from bisect import bisect_right
from itertools import accumulate

from tree_sitter import Node

_COMMENTS = frozenset({"comment"})
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_NEWLINES = re.compile(r"\r\n|\r")


def last_code_byte(node: Node, comments: frozenset[str] = _COMMENTS) -> int:
    """End of the last token of ``node`` that is not a comment.

    tree-sitter attaches comments that follow the last statement to the block;
    a span ends with its code so that its range and hash ignore such trailers.
    """
    current = node
    while True:
        # From the last child back: only the children after the last code are read.
        for index in range(current.child_count - 1, -1, -1):
            child = current.child(index)
            if (
                child is not None
                and child.type not in comments
                and child.end_byte > child.start_byte
            ):
                current = child
                break
        else:
            return current.end_byte


def docstring(node: Node, data: bytes) -> str | None:
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


def docstring_body_cut(
    body: Node, data: bytes, positions: Positions
) -> tuple[int, int, bytes] | None:
    """(start, end, replacement) that cuts a Python function body down to its
    docstring and `...`; None when there is nothing to cut."""
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


def _string_value(node: Node, data: bytes) -> str | None:
    """Value of a plain or raw str literal; None for f-, t- and bytes literals."""
    children = node.children
    if len(children) < 2:
        return None
    start, end = children[0], children[-1]
    if start.type != "string_start" or end.type != "string_end" or end.is_missing:
        return None
    opener = decode(data[start.start_byte : start.end_byte])
    prefix = opener.rstrip("'\"").lower()
    # An f-string is never a docstring (it is an expression, __doc__ stays None);
    # a bytes literal is not a str.
    if any(letter in prefix for letter in "fbt"):
        return None
    content = decode(data[start.end_byte : end.start_byte])
    content = normalise_newlines(content)
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


class Positions:
    """Byte offsets to LSP positions (line, UTF-16 column).

    Lines break at \\r\\n, \\r and \\n, as LSP and Python both count them;
    tree-sitter's own rows only count \\n, so they are not used.
    """

    __slots__ = ("_ascii", "_data", "_starts")

    def __init__(self, data: bytes) -> None:
        self._data = data
        # Most source is ASCII: then a UTF-16 column is a byte column.
        self._ascii = data.isascii()
        if b"\r" in data:
            self._starts = [0, *(m.end() for m in _LINE_BREAK.finditer(data))]
        else:
            # The common case, summed in C: each line's length plus its \n.
            lengths = map(len, data.split(b"\n")[:-1])
            self._starts = list(accumulate(map((1).__add__, lengths), initial=0))

    @property
    def line_starts(self) -> list[int]:
        """The byte offset of each line's start (read only)."""
        return self._starts

    def line(self, offset: int) -> int:
        return bisect_right(self._starts, offset) - 1

    def line_start(self, offset: int) -> int:
        return self._starts[bisect_right(self._starts, offset) - 1]

    def at(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._starts, offset) - 1
        if self._ascii:
            return line, offset - self._starts[line]
        prefix = self._data[self._starts[line] : offset]
        if prefix.isascii():
            return line, len(prefix)
        decoded = decode(prefix)
        return line, len(decoded.encode("utf-16-le", "surrogatepass")) // 2


def dedent(text: str) -> str:
    """Exactly `textwrap.dedent(text)`, about twice as fast.

    The content hash of every stored gloss is taken over this result, so it must
    never differ from textwrap's (tests/test_spans.py compares the two): lines
    of only spaces and tabs become empty, and the longest run of leading spaces
    and tabs common to the other lines is removed. textwrap's three regular
    expressions over the whole text were a tenth of the cost of cutting a file.
    """
    lines = text.split("\n")
    margin: str | None = None
    for i, line in enumerate(lines):
        if not line or (margin is not None and line.startswith(margin) and not line.isspace()):
            continue  # empty, or code indented at least as far as the margin: no change
        content = line.lstrip(" \t")
        if not content:
            if line:
                lines[i] = ""
            continue
        indent = line[: len(line) - len(content)]
        if margin is None:
            margin = indent
        elif indent.startswith(margin):
            continue
        elif margin.startswith(indent):
            margin = indent
        else:
            for j, (ours, theirs) in enumerate(zip(margin, indent, strict=False)):
                if ours != theirs:
                    margin = margin[:j]
                    break
    if margin:
        cut = len(margin)
        lines = [line[cut:] if line else line for line in lines]
    return "\n".join(lines)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        # Only reachable when tree-sitter cut through bytes that were never valid
        # UTF-8; a replacement character is better than losing the whole file.
        return data.decode("utf-8", "replace")


def normalise_newlines(text: str) -> str:
    """\r\n and lone \r as \n, as Python reads source."""
    return _NEWLINES.sub("\n", text) if "\r" in text else text
