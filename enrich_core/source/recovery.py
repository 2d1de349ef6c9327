"""Definitions after a syntax error: the broken lines are blanked and the file parsed again.

tree-sitter recovers from most errors in place (a macro it does not know, a
modifier the grammar lacks), but an unclosed bracket can make it read the rest
of the file, or of a class, as the inside of the broken statement: every
definition after it is then missing, with nothing said. That shows in the tree
as a line that goes back out to a shallower indentation while it still sits
inside an erroneous node that began deeper (`def after():` at column 0 inside
an ERROR that began at the broken statement's column 4). Indentation is the
one layout convention all the languages here share; what a definition is stays
the parser's and the query's call, so nothing here is language specific.

Where that happens, the lines from the broken statement up to the line that
went back out are blanked (every byte but line breaks becomes a space, so
offsets, lines and columns stay those of the real file) and the file is parsed
again; repeated for a later swallow, a few rounds at most. A round is kept only
if it finds definitions after the blanked lines that the last parse missed,
and every definition the last parse found outside them is still found; lines
that parse as what they are (a label or a preprocessor line at column 0 in a
function body, a comment) are never taken for a swallow. The caller cuts spans
from the original bytes and is told which lines were blanked, to tell the
user that definitions there may be missing.

Files that parse cleanly (nearly all) cost nothing here: one `has_error` check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from tree_sitter import Node, Parser, Tree

from enrich_core.source.tree_text import Positions

__all__ = ["MAX_ROUNDS", "Recovered", "Unparsed", "recover"]

# Each round costs a parse and a query of the file; a file broken in more
# places than this keeps what the last kept round found.
MAX_ROUNDS = 4
_SPACE = frozenset(b" \t\f\v")
# A line's indentation, on lines with code: the scan for swallows runs over
# every line after an error, so it is one C-level search, not a loop per line.
_INDENTED_LINE = re.compile(rb"^[ \t\f\v]*(?=[^ \t\f\v\r\n])", re.MULTILINE)
# Every byte but the line breaks becomes a space: lines and offsets stay.
_BLANKED = bytes(b if b in b"\r\n" else 0x20 for b in range(256))


@dataclass(frozen=True, slots=True)
class Unparsed:
    """Lines (0-based, inclusive) blanked for the re-parse; the broken statement
    starts at the first line's `column` (bytes from the line's start)."""

    first_line: int
    last_line: int
    column: int

    def describe(self) -> str:
        """For people: 1-based, as editors and compilers count."""
        lines = (
            f"line {self.first_line + 1}"
            if self.first_line == self.last_line
            else f"lines {self.first_line + 1}–{self.last_line + 1}"
        )
        where = f"{self.first_line + 1}:{self.column + 1}"
        return f"{lines} could not be parsed (a syntax error in the statement at {where})"


@dataclass(frozen=True, slots=True)
class Recovered:
    """The tree to cut spans from (over blanked bytes), and what was blanked."""

    tree: Tree
    blanked: tuple[tuple[int, int], ...]  # byte ranges, sorted
    unparsed: tuple[Unparsed, ...]


# The definitions the query finds in a tree (in a byte range of it, if given),
# as (start byte, end byte, whether the node holds an error, where its name
# starts). A definition is known again by its name's place: its own start can
# move (`async` that an error had swallowed is its own again).
Definition = tuple[int, int, bool, int]
DefinitionRanges = Callable[[Tree, tuple[int, int] | None], Sequence[Definition]]


def recover(
    parser: Parser,
    data: bytes,
    tree: Tree,
    positions: Positions,
    definitions: DefinitionRanges,
    comments: frozenset[str],
) -> Recovered | None:
    """A re-parse that finds the definitions an error swallowed, or None if none did.
    `comments` are the language's comment node types."""
    if not tree.root_node.has_error:
        return None
    masked = data  # the bytes the kept tree was parsed from
    blanked: list[tuple[int, int]] = []
    unparsed: list[Unparsed] = []
    cursor = 0
    kept = tree
    parses = 0
    while parses < MAX_ROUNDS:
        before = definitions(kept, None)
        lines = _swallows(kept.root_node, masked, positions, cursor, comments)
        for start, resume, column in lines:
            cursor = resume
            if _blanks_good_code(before, start, resume):
                continue  # a whole definition there parsed cleanly: not a swallow
            trial = bytearray(masked)
            _blank(trial, start, resume)
            # An edit of the last tree: the parser reuses what the blank did not
            # change, and only the changed part is queried again.
            edited = kept.copy()
            at, end_at = _point(trial, start), _point(trial, resume)
            edited.edit(start, resume, resume, at, end_at, end_at)
            candidate = parser.parse(bytes(trial), edited)
            parses += 1
            changed = edited.changed_ranges(candidate)
            low = min((r.start_byte for r in changed), default=start)
            high = max((r.end_byte for r in changed), default=resume)
            # From the start of any definition the change reaches into (its node
            # may now end before the change: the query must still see it).
            low = min([low, *(s for s, e, _, _ in before if s < high and e > low)])
            after = definitions(candidate, (low, high))
            if _keeps_definitions(before, after, (start, resume), (low, high)):
                masked, kept = bytes(trial), candidate
                blanked.append((start, resume))
                last = len(data[start:resume].rstrip()) + start - 1  # blank lines are no loss
                unparsed.append(Unparsed(positions.line(start), positions.line(last), column))
                break  # the new tree is read afresh from here
            if parses >= MAX_ROUNDS:
                break
        else:
            break  # no swallow left
    if not blanked:
        return None
    return Recovered(kept, tuple(sorted(blanked)), tuple(unparsed))


def _blank(buffer: bytearray, start: int, end: int) -> None:
    buffer[start:end] = buffer[start:end].translate(_BLANKED)


def _blanks_good_code(before: Sequence[Definition], start: int, end: int) -> bool:
    """Whether a definition that parsed without an error lies within the bytes."""
    return any(start <= s and e <= end and not broken for s, e, broken, _ in before)


def _keeps_definitions(
    before: Sequence[Definition],
    after: Sequence[Definition],
    blank: tuple[int, int],
    changed: tuple[int, int],
) -> bool:
    """Whether the re-parse finds definitions after the blanked lines that the last
    parse did not (what a swallow hid), and every definition found before that
    was not wholly inside them. Anything else is not a swallow undone: a label
    at column 0 inside a function, say. `after` holds the definitions in the
    `changed` bytes; outside them the tree is what it was."""
    found = {name for _, _, _, name in after}
    had = {name for _, _, _, name in before}
    if not any(name >= blank[1] and name not in had for name in found):
        return False
    low, high = changed
    return all(
        name in found
        for s, e, _, name in before
        if not (blank[0] <= s and e <= blank[1]) and not (e <= low or s >= high)
    )


def _point(data: bytearray, offset: int) -> tuple[int, int]:
    """tree-sitter's (row, column in bytes) of an offset: rows count LF only."""
    return data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1)


def _swallows(
    root: Node, data: bytes, positions: Positions, cursor: int, comments: frozenset[str]
) -> Iterator[tuple[int, int, int]]:
    """For each swallow at or after `cursor`, in order: (start of the broken
    statement's first line, start of the line where the code goes back out,
    the statement's column)."""
    # A broken statement is offered once, with the first line it swallowed: a
    # later line only makes the same blank longer.
    offered: set[int] = set()
    for line_start, first, indent in _dedents(root, data, positions, cursor):
        holder = _holder(root, line_start, first, comments)
        if holder is None or not holder.has_error:
            continue
        deeper = _indent_of(data, positions, holder.start_byte)
        # An ERROR that began at this line's own depth (Ruby's recovery makes a
        # broken `def` one) holds it as wrongly as a node that began deeper.
        if deeper < indent or (deeper == indent and not holder.is_error):
            continue
        # Out to the outermost erroneous node that began deeper than this line:
        # the whole broken statement goes, not only its tail.
        broken = holder
        parent = broken.parent
        while (
            parent is not None
            and parent.parent is not None
            and parent.start_byte < line_start
            and _indent_of(data, positions, parent.start_byte) > indent
        ):
            broken = parent
            parent = parent.parent
        first_code = _first_code_byte(data, broken.start_byte)
        start = positions.line_start(first_code)
        if start >= line_start or start in offered:
            continue
        if broken.end_byte <= data.find(b"\n", first) % (len(data) + 1):
            continue  # it ends on this line: an error of its own, nothing after it swallowed
        offered.add(start)
        yield start, line_start, first_code - start


def _dedents(
    root: Node, data: bytes, positions: Positions, cursor: int
) -> Iterator[tuple[int, int, int]]:
    """(line start, first code byte, indentation in bytes) of each line, inside an
    error that spans lines, whose code sits shallower than the line before it.
    Only there can a swallow show, so only there is anything read (lines broken
    by LF: a file broken by CR alone is read as one line)."""
    for low, high in _error_regions(root, cursor):
        previous: int | None = None
        for match in _INDENTED_LINE.finditer(data, positions.line_start(low), high):
            indent = match.end() - match.start()
            if previous is not None and indent < previous:
                yield match.start(), match.end(), indent
            previous = indent


def _error_regions(root: Node, cursor: int) -> list[tuple[int, int]]:
    """The byte ranges, in order, of the outermost ERROR nodes that span lines and
    of the constructs holding a MISSING node (what was left open), past `cursor`."""
    regions: list[tuple[int, int]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.end_byte <= cursor:
            continue
        if node.is_error and node.start_point.row != node.end_point.row:
            regions.append((node.start_byte, node.end_byte))
            continue
        if node.is_missing:
            parent = node.parent
            if parent is not None:
                regions.append((parent.start_byte, parent.end_byte))
            continue
        stack.extend(reversed([c for c in node.children if c.has_error]))
    regions.sort()
    merged: list[tuple[int, int]] = []
    for low, high in regions:
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _holder(root: Node, line_start: int, first: int, comments: frozenset[str]) -> Node | None:
    """The innermost node holding this line's first token that began on an earlier
    line, when the token sits in an ERROR on the way up to it (a line the parser
    did not understand); None otherwise, or when the token itself began earlier
    (a line inside a string). A label at column 0 inside a function body parses
    as what it is: no ERROR holds it. Comments and preprocessor lines (`#if`,
    `#define`) go anywhere at any depth: they say nothing of nesting."""
    leaf = root.descendant_for_byte_range(first, first + 1)
    if leaf is None or leaf.start_byte < line_start or leaf.type in comments:
        return None
    if leaf.type.startswith("preproc") or (leaf.type.startswith("#") and leaf.type != "#"):
        return None
    in_error = False
    node: Node | None = leaf
    while node is not None and node.start_byte >= line_start:
        in_error = in_error or node.is_error
        node = node.parent
    if node is None or not (in_error or node.is_error):
        return None
    return node


def _first_code_byte(data: bytes, offset: int) -> int:
    while offset < len(data) and data[offset] in b" \t\f\v\r\n":
        offset += 1
    return offset


def _indent_of(data: bytes, positions: Positions, offset: int) -> int:
    """The indentation of the line holding the first code at or after `offset`."""
    first = _first_code_byte(data, offset)
    start = positions.line_start(first)
    indent = start
    while indent < first and data[indent] in _SPACE:
        indent += 1
    return indent - start
