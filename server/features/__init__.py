"""One LSP feature per module; each exposes `setup(server)` and registers nothing on import.

`build_server` wires them to a `GlossServer` here, above them, so `server.lsp`
(which every feature imports) imports no feature.
"""

from __future__ import annotations

from server.features import commands, documents, hover, lifecycle, search, status, symbols
from server.lsp import GlossServer


def build_server() -> GlossServer:
    server = GlossServer()
    for feature in (lifecycle, documents, hover, symbols, search, status, commands):
        feature.setup(server)
    return server
