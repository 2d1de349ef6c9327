"""Columns in the encoding the client negotiated.

The store keeps columns in UTF-16 code units, LSP's default. When a client
negotiated UTF-8 or UTF-32 (Neovim offers UTF-8 first), a column is converted
using the line's text: from the open document if there is one, else the file.
Pure-ASCII prefixes, nearly every `def` line, are the same in all three.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from lsprotocol import types

from server.lsp import GlossServer

Converter = Callable[[str, str, int, int, int], Awaitable[tuple[int, int]]]
# (uri, file system path, line, start column, end column), columns in UTF-16 units.
NameRange = tuple[str, str, int, int, int]


async def convert_all(ls: GlossServer, ranges: list[NameRange]) -> list[tuple[int, int]]:
    """The columns of many ranges in the negotiated encoding: lines of files not open in
    the editor are read in one thread hop, each file once (a search answers 50 hits)."""
    encoding = ls.workspace.position_encoding
    if encoding in (None, types.PositionEncodingKind.Utf16):
        return [(start, end) for _, _, _, start, end in ranges]
    texts: dict[tuple[str, int], str] = {}
    unread: dict[str, set[int]] = {}
    for uri, fs_path, line, _, _ in ranges:
        doc = ls.workspace.text_documents.get(uri)
        if doc is not None:
            lines = doc.lines
            texts[(fs_path, line)] = lines[line] if line < len(lines) else ""
        else:
            unread.setdefault(fs_path, set()).add(line)
    if unread:
        texts.update(await asyncio.to_thread(_read_lines, unread))
    out = []
    for _, fs_path, line, start, end in ranges:
        text = texts.get((fs_path, line), "")
        if text.isascii():
            out.append((start, end))
        else:
            out.append((_from_utf16(text, start, encoding), _from_utf16(text, end, encoding)))
    return out


def _read_lines(wanted: dict[str, set[int]]) -> dict[tuple[str, int], str]:
    found: dict[tuple[str, int], str] = {}
    for fs_path, lines in wanted.items():
        last = max(lines)
        try:
            with Path(fs_path).open(encoding="utf-8", errors="replace") as fh:
                for i, text in enumerate(fh):
                    if i in lines:
                        found[(fs_path, i)] = text
                    if i >= last:
                        break
        except OSError:
            pass
    return found


def _from_utf16(text: str, col16: int, encoding: str) -> int:
    units = 0
    out = 0
    for ch in text:
        if units >= col16:
            break
        units += 2 if ord(ch) > 0xFFFF else 1
        out += len(ch.encode("utf-8")) if encoding == types.PositionEncodingKind.Utf8 else 1
    return out
