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

from enrich_core.run.engine import Engine

log = logging.getLogger(__name__)

DEBOUNCE_MS = 200
STEP_MS = 50


class _SourceChanges(watchfiles.DefaultFilter):
    """Wake only for changes that could matter: never for the store's own writes."""

    def __init__(self, store_file: Path) -> None:
        super().__init__()
        db = str(store_file)
        # The database and its WAL/shared-memory/journal files, exactly.
        self._store_files = {db, db + "-wal", db + "-shm", db + "-journal"}

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        if path in self._store_files:
            return False
        if path.endswith("/.gitignore") or path.endswith("/.git/info/exclude"):
            return True  # ignore rules; the default filter drops everything under .git/
        return bool(super().__call__(change, path))


async def watch_workspace(engine: Engine, stop: asyncio.Event) -> None:
    root = engine.root
    async for changes in watchfiles.awatch(
        root,
        watch_filter=_SourceChanges(engine.store_file),
        stop_event=stop,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        recursive=True,
        ignore_permission_denied=True,
    ):
        rels: set[str] = set()
        rescan = False
        reload_rules = False
        for _change, raw in changes:
            path = Path(raw)
            rel = engine.relative(path)
            if rel is None:
                continue
            if rel.endswith(".gitignore") or rel == ".git/info/exclude":
                reload_rules = True
            elif engine.wants(rel):
                rels.add(rel)
            elif _is_or_was_directory(path):
                # A renamed, moved or deleted directory reports only itself, not
                # its files: only a scan (cheap when little changed) sees them.
                rescan = True
        try:
            if reload_rules:
                engine.reload_ignore_rules()
            if reload_rules or rescan:
                await engine.scan()
            if rels:
                queued = await engine.files_changed(sorted(rels))
                log.info("%d changed files on disk, %d spans queued", len(rels), queued)
        except Exception:
            log.exception("re-indexing after file changes failed: %s", sorted(rels)[:5])


async def start_watching(engine: Engine, stop: asyncio.Event) -> asyncio.Task[None]:
    """The watcher as a task, already watching when this returns.

    `awatch` registers its watches synchronously in its first step, before
    its first await; one yield to the loop runs that step. A scan started
    after this therefore misses no change: events made while it runs wait in
    the watcher, and `Engine.files_changed` waits for the scan to finish.
    """
    task = asyncio.create_task(watch_workspace(engine, stop), name=f"watch {engine.root}")
    await asyncio.sleep(0)
    return task


def _is_or_was_directory(path: Path) -> bool:
    # A path that is gone and has no suffix was most likely a directory; a wasted
    # rescan costs a walk of stat calls, a missed one leaves stale spans.
    return path.is_dir() or (not path.exists() and not path.suffix)
