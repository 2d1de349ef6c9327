"""textDocument/didSave and didClose: the user's edits go to the front of the queue.

On save the editor's text (not the disk's) is re-cut into spans, and only the
spans whose text changed are queued, at the edited-document priority.
"""

from __future__ import annotations

from lsprotocol import types

from server.lsp import GlossServer


def setup(server: GlossServer) -> None:
    server.feature(
        types.TEXT_DOCUMENT_DID_SAVE,
        types.SaveOptions(include_text=True),
    )(did_save)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)


async def did_save(ls: GlossServer, params: types.DidSaveTextDocumentParams) -> None:
    if not await ls.wait_ready():
        return
    located = ls.locate(params.text_document.uri)
    if located is None:
        return
    engine, rel = located
    if not engine.indexer.filter.wants(rel):
        return  # ignored or secret-looking: never read, never sent
    text = params.text
    if text is None:
        text = ls.workspace.get_text_document(params.text_document.uri).source
    await engine.document_changed(rel, text)


def did_close(ls: GlossServer, params: types.DidCloseTextDocumentParams) -> None:
    located = ls.locate(params.text_document.uri)
    if located is not None:
        engine, rel = located
        engine.document_closed(rel)
