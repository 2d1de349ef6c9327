"""textDocument/hover: the gloss of the function, method or class whose header is hovered.

Reads the store only, never waits for a scan or a model. A span without a
current gloss is moved to the front of the queue and the hover says so.
"""

from __future__ import annotations

from lsprotocol import types

from enrich_core.render import render_hover
from server.lsp import GlossServer


def setup(server: GlossServer) -> None:
    server.feature(types.TEXT_DOCUMENT_HOVER)(hover)


async def hover(ls: GlossServer, params: types.HoverParams) -> types.Hover | None:
    if not await ls.wait_ready():
        return None
    located = ls.locate(params.text_document.uri)
    if located is None:
        return None
    engine, rel = located
    info = await engine.hover(rel, params.position.line)
    if info is None:
        return None
    position = engine.request_gloss(info)
    retry_in = engine.retries.due_in(info.span.content_hash)
    return types.Hover(
        contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=render_hover(info, position, retry_in)
        )
    )
