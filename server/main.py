"""Start the language server on stdio. Logs go to stderr: stdout carries the protocol.

The message loop is ours, run so that however the session ends —
`shutdown`/`exit`, or the editor simply going away (stdin closed) — the engines
are stopped in the loop that owns them: the writer drains, and the database
connections close, whose threads would otherwise keep the process alive after
the editor has gone.

It reads frames as pygls' `run_async` does, and goes on where that one stops
answering: a body that is not JSON gets a JSON-RPC parse error (id null); after
a wrong Content-Length the next header is found again (pygls read every later
frame as one more header line, so nothing after it was ever answered); a frame
larger than MAX_FRAME_BYTES is read through in chunks, never held, and refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import threading
from concurrent.futures import Executor
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.io_ import StdoutWriter

from server.features import build_server
from server.lsp import GlossProtocol, GlossServer

log = logging.getLogger(__name__)


def serve() -> None:
    # vscode-languageclient appends --stdio; stdio is the only transport, so
    # any such argument is accepted and ignored.
    # Editors show a server's stderr as errors (Neovim logs every line at ERROR):
    # only warnings by default; GLOSS_LOG_LEVEL=INFO (or `gloss -v serve`) for more.
    level = os.environ.get("GLOSS_LOG_LEVEL", "WARNING").upper()
    known = level in logging.getLevelNamesMapping()
    logging.basicConfig(
        level=level if known else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not known:
        log.warning("GLOSS_LOG_LEVEL=%r is not a level (DEBUG, INFO, WARNING, ERROR)", level)
    # pygls logs every message at INFO; that is a debugging aid, not a log.
    logging.getLogger("pygls").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    server = build_server()
    try:
        code = asyncio.run(_serve_stdio(server))
    except (KeyboardInterrupt, BrokenPipeError):
        return
    if code:
        sys.exit(code)


# A didOpen carries a whole file (Gloss reads files up to a few MB); nothing
# an editor sends comes near this. Bigger claims are junk or an attack.
MAX_FRAME_BYTES = 64 * 2**20
READ_CHUNK_BYTES = 2**20
HEADER_LINE_LIMIT = 1024
HEADER_TAIL_BYTES = 64  # more than any Content-Length line
# Searched, not matched at the line's start: after a Content-Length too short,
# the rest of that body comes before the next header on the same line.
CONTENT_LENGTH = re.compile(rb"Content-Length:[ \t]*(\d+)[ \t]*\r?\n\Z", re.IGNORECASE)
# A header inside a body is never JSON (a raw line break cannot sit in a JSON
# string): it is where the next frame began, under a Content-Length too long.
HEADER_IN_BODY = re.compile(rb"Content-Length:[ \t]*\d+[ \t]*\r?\n", re.IGNORECASE)


async def _serve_stdio(server: GlossServer) -> int:
    """The process's exit code: 1 for an `exit` that no `shutdown` came before (LSP)."""
    stop = threading.Event()
    server._stop_event = stop  # pygls' shutdown() sets it to end the loop
    reader = FrameReader(sys.stdin.buffer, server.thread_pool)
    protocol = server.protocol
    assert isinstance(protocol, GlossProtocol)
    protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    try:
        told_to_exit = await serve_frames(stop, reader, protocol)
    finally:
        await server.close()
    return 1 if told_to_exit and not protocol.shutdown_received else 0


class FrameReader:
    """Reads of stdin, in a thread, with room to give bytes back.

    Each hand-off to the thread takes whatever stdin has (up to READ_CHUNK_BYTES,
    `read1`), and headers are cut from that on the loop: a message costs one
    hand-off, or none when it came with the one before. Reading each header line
    in a hand-off of its own was a third of the server's CPU on a hover.
    """

    def __init__(self, stream: BinaryIO, executor: Executor) -> None:
        self._stream = stream
        self._executor = executor
        self._pending = b""

    async def _fill(self) -> bytes:
        """More bytes from stdin (at least one), b"" at the end of input."""
        read1 = getattr(self._stream, "read1", self._stream.read)
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, read1, READ_CHUNK_BYTES
        )

    async def readline(self) -> bytes:
        """One line of at most HEADER_LINE_LIMIT bytes; b"" at the end of input."""
        while b"\n" not in self._pending and len(self._pending) < HEADER_LINE_LIMIT:
            more = await self._fill()
            if not more:
                line, self._pending = self._pending, b""
                return line
            self._pending += more
        cut = self._pending.find(b"\n", 0, HEADER_LINE_LIMIT) + 1 or HEADER_LINE_LIMIT
        line, self._pending = self._pending[:cut], self._pending[cut:]
        return line

    async def read(self, size: int) -> bytes:
        """`size` bytes, fewer only at the end of input."""
        parts = [self._pending[:size]]
        self._pending = self._pending[size:]
        have = len(parts[0])
        while have < size:
            part = await self._fill()
            if not part:
                break
            if have + len(part) > size:  # the next message began in this read
                self._pending = part[size - have :]
                part = part[: size - have]
            parts.append(part)
            have += len(part)
        return b"".join(parts)

    def give_back(self, data: bytes) -> None:
        self._pending = data + self._pending

    async def header(self) -> int | None:
        """The next frame's Content-Length; None at the end of input. Bytes that are
        no header (the rest of a body whose Content-Length was too short) are skipped."""
        length: int | None = None
        skipped = 0
        while True:
            line = await self.readline()
            if not line:
                return None
            if not line.endswith(b"\n") and len(line) > HEADER_TAIL_BYTES:
                # A long line cut at the limit: a header may straddle the cut.
                self.give_back(line[-HEADER_TAIL_BYTES:])
                skipped += len(line) - HEADER_TAIL_BYTES
                continue
            found = CONTENT_LENGTH.search(line)
            if found is not None:
                skipped += found.start()
                length = int(found.group(1))
            elif line.strip() and not line.lower().startswith(b"content-type:"):
                skipped += len(line)
            elif not line.strip() and length is not None:
                if skipped:
                    log.warning("skipped %d bytes that were not a message", skipped)
                return length


async def serve_frames(stop: threading.Event, reader: FrameReader, protocol: GlossProtocol) -> bool:
    """Until the input ends (False) or `exit` comes (True)."""
    while not stop.is_set():
        length = await reader.header()
        if length is None:
            return False
        if length > MAX_FRAME_BYTES:
            skipped = 0
            while skipped < length:
                chunk = await reader.read(min(length - skipped, READ_CHUNK_BYTES))
                if not chunk:
                    return False
                skipped += len(chunk)
            log.warning("refused a message of %d bytes", length)
            protocol.answer_error(
                None,
                types.ErrorCodes.InvalidRequest,
                f"a message of {length} bytes; Gloss reads messages up to {MAX_FRAME_BYTES}",
            )
            continue
        body = await reader.read(length)
        if len(body) < length:
            return False  # the input ended inside a frame
        message = _parse(body, reader, protocol)
        if message is UNREADABLE:
            continue
        if getattr(message, "method", None) == types.EXIT:
            # Ended here, not by pygls' handler: it raises SystemExit inside the
            # loop, and when `exit` came before `shutdown` had finished, the
            # engines were never closed and their threads kept the process alive.
            return True
        try:
            protocol.handle_message(message)
        except Exception:
            log.exception("a message could not be handled")
    return False


UNREADABLE = object()


def _parse(body: bytes, reader: FrameReader, protocol: GlossProtocol) -> Any:
    """The body's message, or UNREADABLE: not JSON (answered with a parse error), or
    a response from the client that pygls cannot read (logged; nobody waits on it)."""
    try:
        return json.loads(body, object_hook=protocol.structure_message)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        problem = exc
    except Exception:
        log.exception("a message could not be read")
        return UNREADABLE
    nested = HEADER_IN_BODY.search(body)
    if nested is not None and nested.start() > 0:
        log.warning(
            "a message's Content-Length (%d) ran into the next message: read up to it",
            len(body),
        )
        reader.give_back(body[nested.start() :])
        return _parse(body[: nested.start()], reader, protocol)
    log.warning(
        "a message of %d bytes is not JSON (%s): answered with a parse error", len(body), problem
    )
    protocol.answer_error(None, types.ErrorCodes.ParseError, f"not JSON: {problem}")
    return UNREADABLE
