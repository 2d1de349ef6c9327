"""Files changed on disk reach the engine: watchfiles, debounced, as batches of paths.

A burst (a branch switch, a formatter run) arrives from watchfiles as one set
per debounce window, and is handed to the engine as one batch. Ignored and
secret-looking paths are dropped here; a changed `.gitignore` reloads the
rules. Stops through a cooperative event, never by cancelling mid-batch.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import watchfiles

from enrich_core.engine import Engine

log = logging.getLogger(__name__)

DEBOUNCE_MS = 200
STEP_MS = 50


class _SourceChanges(watchfiles.DefaultFilter):
    """Wake only for files that could matter: not the store's own writes."""

    def __init__(self, store_dir: Path) -> None:
        super().__init__()
        self._store_dir = str(store_dir)

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        if path.startswith(self._store_dir):
            return False
        name = path.rsplit("/", 1)[-1]
        if name == ".gitignore":
            return True
        return bool(super().__call__(change, path))


async def watch_workspace(engine: Engine, stop: asyncio.Event) -> None:
    root = engine.root
    store_dir = engine.config.store_path(root).parent
    async for changes in watchfiles.awatch(
        root,
        watch_filter=_SourceChanges(store_dir),
        stop_event=stop,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        recursive=True,
        ignore_permission_denied=True,
    ):
        rels: set[str] = set()
        reload_rules = False
        for _change, raw in changes:
            rel = engine.relative(Path(raw))
            if rel is None:
                continue
            if rel.endswith(".gitignore") or rel == ".git/info/exclude":
                reload_rules = True
            elif engine.indexer.filter.wants(rel):
                rels.add(rel)
        if reload_rules:
            engine.indexer.reload_filter()
            await engine.scan()
        if rels:
            try:
                queued = await engine.files_changed(sorted(rels))
                log.info("%d changed files on disk, %d spans queued", len(rels), queued)
            except Exception:
                log.exception("re-indexing changed files failed: %s", sorted(rels)[:5])
