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


def column_converter(ls: GlossServer) -> Converter:
    encoding = ls.workspace.position_encoding

    async def same(uri: str, fs_path: str, line: int, start: int, end: int) -> tuple[int, int]:
        return start, end

    if encoding in (None, types.PositionEncodingKind.Utf16):
        return same

    async def convert(uri: str, fs_path: str, line: int, start: int, end: int) -> tuple[int, int]:
        doc = ls.workspace.text_documents.get(uri)
        if doc is not None:
            lines = doc.lines
            text = lines[line] if line < len(lines) else ""
        else:
            text = await asyncio.to_thread(_read_line, fs_path, line)
        if text.isascii():
            return start, end
        return _from_utf16(text, start, encoding), _from_utf16(text, end, encoding)

    return convert


def _read_line(fs_path: str, line: int) -> str:
    try:
        with Path(fs_path).open(encoding="utf-8", errors="replace") as fh:
            for i, text in enumerate(fh):
                if i == line:
                    return text
    except OSError:
        pass
    return ""


def _from_utf16(text: str, col16: int, encoding: str) -> int:
    units = 0
    out = 0
    for ch in text:
        if units >= col16:
            break
        units += 2 if ord(ch) > 0xFFFF else 1
        out += len(ch.encode("utf-8")) if encoding == types.PositionEncodingKind.Utf8 else 1
    return out
