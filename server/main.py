"""Start the language server on stdio. Logs go to stderr: stdout carries the protocol."""

from __future__ import annotations

import logging
import sys

from server.lsp import build_server


def serve() -> None:
    # vscode-languageclient appends --stdio; stdio is the only transport, so
    # any such argument is accepted and ignored.
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # pygls logs every message at INFO; that is a debugging aid, not a log.
    logging.getLogger("pygls").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    build_server().start_io()
