"""The server object: state shared by the handlers, and the explicit wiring of features.

State lives on `GlossServer`; nothing registers on import. Engines (one per
workspace folder) are created in the `initialized` handler, never in
`__init__`: `start_io()` runs its own event loop, and queues, tasks, HTTP
clients and database connections must belong to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from enrich_core import __version__
from enrich_core.config import ConfigError
from enrich_core.run.engine import Engine
from enrich_core.run.pool import WorkPool

log = logging.getLogger(__name__)

VERSION = __version__  # what serverInfo says and the editor clients check
# Engines open in the `initialized` handler: a store opens in milliseconds, so a
# request that arrives first waits at most this long for it.
READY_TIMEOUT_S = 5.0


@dataclass
class Folder:
    """One workspace folder's engine and the tasks that feed it."""

    root: Path
    engine: Engine | None = None
    error: str | None = None  # why there is no engine (bad configuration)
    stop_watch: asyncio.Event = field(default_factory=asyncio.Event)


class GlossProtocol(LanguageServerProtocol):
    """pygls' protocol, taking custom requests and notifications without `params`.

    JSON-RPC lets a request leave `params` out, and VS Code's
    `sendRequest("gloss/status")` does; pygls' generic message type requires
    the field, so such a request failed to parse and was never answered."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        method = data.get("method")
        if (
            isinstance(method, str)
            and "params" not in data
            and self.get_message_type(method) is None
        ):
            data = {**data, "params": None}
        return super().structure_message(data)


class GlossServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("gloss", VERSION, protocol_cls=GlossProtocol)
        self.folders: list[Folder] = []
        self.init_options: dict[str, Any] = {}
        self.settings_error: ConfigError | None = None  # initializationOptions were not a table
        self.ready = asyncio.Event()
        # Engines are started, restarted (new settings) and stopped one at a
        # time: two overlapping restarts would each start an engine for a
        # folder and leak one, open store and all.
        self.engines_lock = asyncio.Lock()
        self.closing = False
        # One pool for every folder: a backend's cap holds across folders, and
        # the workers share out their time fairly (enrich_core/run/pool.py).
        self.pool: WorkPool | None = None
        self.edit_pauses: dict[str, asyncio.TimerHandle] = {}  # uri -> idle re-gloss timer
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """A background task owned by the server: kept, awaited on shutdown, failures logged."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)

        def finished(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background task %s failed", name, exc_info=t.exception())

        task.add_done_callback(finished)
        return task

    async def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> bool:
        """Until the engines are open (the `initialized` handler ran). False if it never did:
        a request then answers empty rather than hanging."""
        if self.ready.is_set():
            return True
        try:
            async with asyncio.timeout(timeout_s):
                await self.ready.wait()
        except TimeoutError:
            return False
        return True

    def work_pool(self) -> WorkPool:
        if self.pool is None:
            self.pool = WorkPool()
        return self.pool

    async def close_pool(self) -> None:
        """After every engine stopped: closes the shared backends."""
        if self.pool is not None:
            pool, self.pool = self.pool, None
            await pool.stop()

    async def close(self) -> None:
        """Stop watchers, background tasks and engines (draining writers). Idempotent."""
        self.closing = True
        async with self.engines_lock:
            await self._close_engines()

    async def _close_engines(self) -> None:
        for folder in self.folders:
            folder.stop_watch.set()
        for timer in self.edit_pauses.values():
            timer.cancel()
        self.edit_pauses.clear()
        await self.cancel_tasks()
        for folder in self.folders:
            if folder.engine is not None:
                engine, folder.engine = folder.engine, None
                await engine.stop()
        await self.close_pool()

    def locate(self, uri: str) -> tuple[Engine, str] | None:
        """The engine whose folder holds this document, and the document's relative path."""
        fs_path = to_fs_path(uri)
        if fs_path is None:
            return None
        path = Path(fs_path)
        best: tuple[Engine, str] | None = None
        best_depth = -1
        for folder in self.folders:
            if folder.engine is None:
                continue
            rel = folder.engine.relative(path)
            depth = len(folder.root.parts)
            if rel is not None and depth > best_depth:
                best, best_depth = (folder.engine, rel), depth
        return best

    def engines(self) -> list[Engine]:
        return [f.engine for f in self.folders if f.engine is not None]

    def tell_user(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        log.warning("%s", message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))
