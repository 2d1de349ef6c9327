"""gloss/status: a custom request answering what `gloss status --json` prints, per folder."""

from __future__ import annotations

from typing import Any

from server.lsp import GlossServer

STATUS_METHOD = "gloss/status"


def setup(server: GlossServer) -> None:
    server.feature(STATUS_METHOD)(status)


async def status(ls: GlossServer, params: Any) -> dict[str, Any]:
    await ls.wait_ready()
    folders: list[dict[str, Any]] = []
    for folder in ls.folders:
        if folder.engine is None:
            folders.append({"root": str(folder.root), "error": folder.error or "not started"})
        else:
            folders.append((await folder.engine.status()).to_json())
    return {"folders": folders}
