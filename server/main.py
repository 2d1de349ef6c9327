"""Start the language server on stdio. Logs go to stderr: stdout carries the protocol.

The message loop is pygls' own (`run_async`), run inside a coroutine of ours so
that however the session ends — `shutdown`/`exit`, or the editor simply going
away (stdin closed) — the engines are stopped in the loop that owns them: the
writer drains, and the database connections close, whose threads would
otherwise keep the process alive after the editor has gone.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading

from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

from server.features import build_server
from server.lsp import GlossServer

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
        asyncio.run(_serve_stdio(server))
    except (KeyboardInterrupt, BrokenPipeError):
        pass


async def _serve_stdio(server: GlossServer) -> None:
    stop = threading.Event()
    server._stop_event = stop  # pygls' shutdown() sets it to end the loop
    reader = StdinAsyncReader(sys.stdin.buffer, server.thread_pool)
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    try:
        await run_async(
            stop_event=stop,
            reader=reader,
            protocol=server.protocol,
            logger=log,
            error_handler=server.report_server_error,
        )
    finally:
        await server.close()
