"""A file's import lines, read from the tree its spans are cut from.

A reader of a function sees the module's imports at the top of the file; the
prompt shows them too (records/context.py). Which statements import is data
in the language table (`LanguageSpec.imports`, `import_words`, `import_blocks`);
this module only walks the top level of a parsed tree once (and, per the table,
the blocks of its conditional statements), so the cost is a few node visits per
file beside the parse. Imports inside functions are not read: the top of the
module is what a reader sees first. What is kept is bounded, so a file of a
thousand `#include`s costs a prompt no more than a usual one.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from enrich_core.records.context import MAX_IMPORT_LINES
from enrich_core.source.languages import LanguageSpec

__all__ = ["MAX_IMPORT_LINE_CHARS", "import_lines"]

# A line longer than this is cut (a generated or minified import).
MAX_IMPORT_LINE_CHARS = 200


def import_lines(spec: LanguageSpec, root: Node, data: bytes) -> tuple[str, ...]:
    """The file's top-level import statements as written, line by line, at most
    MAX_IMPORT_LINES of them; () for a language whose row names none."""
    if not spec.imports and not spec.import_words:
        return ()
    lines: list[str] = []
    for node in _statements(spec, root):
        if node.type not in spec.imports and not _imports_by_word(spec, node, data):
            continue
        text = data[node.start_byte : node.end_byte].decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip():
                lines.append(line.rstrip()[:MAX_IMPORT_LINE_CHARS])
            if len(lines) >= MAX_IMPORT_LINES:
                return tuple(lines)
    return tuple(lines)


def _statements(spec: LanguageSpec, root: Node) -> Iterator[Node]:
    """The top-level statements, and those of the blocks of `import_blocks` statements
    (`if TYPE_CHECKING:`, `try:` and its `except` clauses), in source order."""
    for node in root.children:
        if node.type not in spec.import_blocks:
            yield node
            continue
        for part in node.named_children:
            blocks = (
                [part]
                if part.type == "block"
                else [c for c in part.named_children if c.type == "block"]
            )
            for block in blocks:
                yield from block.named_children


def _imports_by_word(spec: LanguageSpec, node: Node, data: bytes) -> bool:
    if not spec.import_words or not node.is_named:
        return False
    head = data[node.start_byte : min(node.end_byte, node.start_byte + 32)]
    word = head.split(maxsplit=1)[0].split(b"(", 1)[0] if head.strip() else b""
    return word.decode("ascii", "replace") in spec.import_words
