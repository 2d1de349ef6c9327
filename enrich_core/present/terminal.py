"""Text from outside made safe to print on a terminal.

Model answers, backend error bodies, file names, qualified names and skip
reasons all come from outside Gloss. Printed raw, an ESC sequence in any of
them can clear the screen, set the window title or rewrite earlier lines, a
carriage return can overwrite what came before, and a bidi control can make
text read differently from what it is (the "Trojan Source" trick). So every
such character is shown as a visible escape (`\\x1b`, `\\u202e`) instead: the
reader sees that it was there and what it was.

This module never drops or reorders text, and it never touches a character a
terminal shows as itself: only control characters (C0, DEL, C1), bidi
controls, line and paragraph separators, and lone surrogates (a file name that
is not UTF-8 decodes to those, and printing one would raise) are escaped.
`--json` output does not need it: `json.dumps` with its default
`ensure_ascii=True` writes every such character as a `\\u` escape already.
"""

from __future__ import annotations

import re
from typing import TextIO

# C0 controls but TAB (harmless and common), DEL, C1 controls (0x9b is a
# one-character CSI on some terminals), the bidi embeddings, overrides and
# isolates with the marks that steer them, the Unicode line and paragraph
# separators, and lone surrogates.
_UNSAFE_ONE_LINE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
    "\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# The same without LF: text whose own layout has line breaks (a hover's Markdown).
_UNSAFE_MULTILINE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
    "\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str, *, multiline: bool = False) -> str:
    """`text` with control and bidi characters shown as escapes, ready to print.

    One-line fields (a path, a reason, a name) escape line breaks too, so one
    record stays one line; with `multiline`, LF is kept (CR is escaped either
    way: alone it returns the cursor and overwrites the line).
    """
    pattern = _UNSAFE_MULTILINE if multiline else _UNSAFE_ONE_LINE
    return pattern.sub(_visible, text)


class TerminalLines:
    """A stream for code that prints text from outside one line per `write` (`gloss
    doctor`'s backend answers): each write is one line, its own line breaks escaped."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def write(self, line: str) -> int:
        end = "\n" if line.endswith("\n") else ""
        return self._out.write(terminal_safe(line.removesuffix("\n")) + end)

    def flush(self) -> None:
        self._out.flush()
