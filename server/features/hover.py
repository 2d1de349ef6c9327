"""textDocument/hover: the gloss of the function, method or class whose header is hovered.

Reads the store only, never waits for a scan or a model. A span without a
current gloss is moved to the front of the queue and the hover says so. A
file opened through a symbolic link that leads out of the workspace is never
glossed, and its hovers say so. A
client that declares `experimental.gloss.actionLinks` gets a last line of
links to its own regenerate / escalate commands (docs/client-protocol.md);
nothing a model wrote ever becomes a link.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

from lsprotocol import types

from enrich_core.present.render import escape_markdown, render_hover
from enrich_core.run.engine import Engine
from enrich_core.store.reads import HoverInfo
from server.lsp import GlossServer

REGLOSS_LINK = "gloss.reglossSymbol"
ESCALATE_LINK = "gloss.escalate"


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
        return await _link_outside(engine, rel)
    position = engine.request_gloss(info)
    retry_in = engine.retry_in(info.span.content_hash)
    text = render_hover(info, position, retry_in, links=engine.hover_links)
    if client_runs_action_links(ls):
        links = action_links(params.text_document.uri, info, engine.tier_names)
        if links:
            text += "\n\n" + links
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


async def _link_outside(engine: Engine, rel: str) -> types.Hover | None:
    """A file opened through a link out of the workspace: said on every hover, since
    nothing of it is stored to say which lines are definitions."""
    target = await asyncio.to_thread(engine.link_outside, rel)
    if target is None:
        return None
    text = (
        f"Not glossed: {escape_markdown(rel)} is a link to {escape_markdown(str(target))}, "
        "outside the workspace. Gloss never sends such a file to a model."
    )
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


def client_runs_action_links(ls: GlossServer) -> bool:
    experimental = ls.client_capabilities.experimental
    if not isinstance(experimental, dict):
        return False
    ours = experimental.get("gloss")
    return isinstance(ours, dict) and ours.get("actionLinks") is True


def action_links(uri: str, info: HoverInfo, tiers: list[str]) -> str:
    """Regenerate (a gloss or a failure to redo) and escalate (a next tier exists)."""
    if info.gloss is None and info.failure is None:
        return ""  # pending: the hover already put it first in the queue
    # As VS Code decodes a command URI: encodeURIComponent(JSON.stringify(args)).
    args = quote(json.dumps([{"uri": uri, "line": info.span.start_line}]), safe="")
    links = [f"[Regenerate](command:{REGLOSS_LINK}?{args})"]
    gloss = info.gloss
    if gloss is not None and gloss.tier in tiers:
        after = tiers.index(gloss.tier) + 1
        if after < len(tiers):
            label = f"Escalate to {escape_markdown(tiers[after])}"
            links.append(f"[{label}](command:{ESCALATE_LINK}?{args})")
    return " · ".join(links)
