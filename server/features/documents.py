"""didChange / didSave / didClose: the user's edits go to the front of the queue.

The editor's text (not the disk's) is re-cut into spans, and only the spans
whose text changed are queued, at the edited-document priority: on save, and
once the user has stopped typing for `[index] idle_pause_ms` (a timer per
document, restarted by every change; nothing is parsed while they type), one
send per document at a time. pygls keeps each open document's text in step
with the changes itself. What a flood of changes leaves behind is bounded by
the open documents: one timer and at most one send each.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types

from server.lsp import GlossServer


def setup(server: GlossServer) -> None:
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    server.feature(
        types.TEXT_DOCUMENT_DID_SAVE,
        types.SaveOptions(include_text=True),
    )(did_save)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)


def did_change(ls: GlossServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    located = ls.locate(uri)
    if located is None:
        return
    engine, _ = located
    _cancel_pause(ls, uri)
    pause_s = engine.edit_pause_s
    if pause_s > 0:
        loop = asyncio.get_running_loop()
        ls.edit_pauses[uri] = loop.call_later(pause_s, _paused, ls, uri)


def _paused(ls: GlossServer, uri: str) -> None:
    ls.edit_pauses.pop(uri, None)
    if uri in ls.buffers_sending:
        # One send per document at a time: pauses that fell while a send (a parse,
        # then the store) ran would each hold a version of the text and a parse,
        # without bound. The running one sends the newest text once more.
        ls.buffers_changed_since.add(uri)
        return
    ls.spawn(_send_newest(ls, uri), name=f"idle re-gloss {uri}")


async def _send_newest(ls: GlossServer, uri: str) -> None:
    ls.buffers_sending.add(uri)
    try:
        while True:
            ls.buffers_changed_since.discard(uri)
            await _send_buffer(ls, uri, None, saved=False)
            if uri not in ls.buffers_changed_since:
                return
    finally:
        ls.buffers_sending.discard(uri)
        ls.buffers_changed_since.discard(uri)


async def did_save(ls: GlossServer, params: types.DidSaveTextDocumentParams) -> None:
    _cancel_pause(ls, params.text_document.uri)
    await _send_buffer(ls, params.text_document.uri, params.text, saved=True)


async def did_close(ls: GlossServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    _cancel_pause(ls, uri)
    located = ls.locate(uri)
    if located is not None:
        engine, rel = located
        await engine.document_closed(rel)


async def _send_buffer(ls: GlossServer, uri: str, text: str | None, *, saved: bool) -> None:
    if not await ls.wait_ready():
        return
    located = ls.locate(uri)
    if located is None:
        return
    engine, rel = located
    if not engine.wants(rel):
        return  # ignored or secret-looking: never read, never sent
    if text is None:
        text = ls.workspace.get_text_document(uri).source
    await engine.document_changed(rel, text, saved=saved)


def _cancel_pause(ls: GlossServer, uri: str) -> None:
    pending = ls.edit_pauses.pop(uri, None)
    if pending is not None:
        pending.cancel()
