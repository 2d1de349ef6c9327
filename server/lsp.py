"""The server object: state shared by the handlers, and the explicit wiring of features.

State lives on `GlossServer`; nothing registers on import. Engines (one per
workspace folder) are created in the `initialized` handler, never in
`__init__`: `start_io()` runs its own event loop, and queues, tasks, HTTP
clients and database connections must belong to it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cattrs import BaseValidationError, transform_error
from cattrs.v import format_exception
from lsprotocol import types
from pygls.exceptions import FeatureRequestError, JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import JsonRPCProtocol, LanguageServerProtocol
from pygls.protocol.json_rpc import MsgId, RPCRequest
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
MAX_ERRORS_SHOWN = 20


@dataclass
class Folder:
    """One workspace folder's engine and the tasks that feed it."""

    root: Path
    engine: Engine | None = None
    error: str | None = None  # why there is no engine (bad configuration)
    stop_watch: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A message whose fields do not fit its method's type (a negative or 2**31
    position, a string where a number goes, a missing field): answered, if it is
    a request, with `problem` as an InvalidParams error."""

    msg_id: MsgId | None
    method: str
    problem: str
    is_request: bool


class GlossProtocol(LanguageServerProtocol):
    """pygls' protocol, answering every request it is sent.

    pygls leaves these without an answer, and a client waiting on one hangs:
    params it cannot read as the method's type (it raises while reading the
    message, before it knows whom to answer), a request after `shutdown`
    (dropped with a log line), and a message that is not JSON-RPC 2.0. Here the
    first is answered InvalidParams naming the field, the others
    InvalidRequest, as is a second `initialize`. Custom requests may leave
    `params` out (JSON-RPC allows it, VS Code's `sendRequest("gloss/status")`
    does). And the futures pygls keeps for notifications are dropped once
    done: it never removes them itself, so an editor's stream of didChange grew
    the server by ~2 KB each, for good.
    """

    initialize_received = False
    shutdown_received = False

    def structure_message(self, data: dict[str, Any]) -> Any:
        method = data.get("method")
        if "jsonrpc" not in data or not isinstance(method, str):
            # Nested objects, responses, and what is no message at all
            # (answered in `handle_message`) keep pygls' way.
            return super().structure_message(data)
        if "params" not in data and self.get_message_type(method) is None:
            data = {**data, "params": None}
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            msg_id = _usable_id(data.get("id"))
            return Unreadable(msg_id, method, _params_problem(exc), "id" in data)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, Unreadable):
            log.warning("%s: invalid params: %s", message.method, message.problem)
            if message.is_request:
                self.answer_error(
                    message.msg_id,
                    types.ErrorCodes.InvalidParams,
                    f"{message.method}: invalid params: {message.problem}",
                )
            return
        if getattr(message, "jsonrpc", None) != JsonRPCProtocol.VERSION:
            self._answer_not_a_message(message)
            return
        method = getattr(message, "method", None)
        if isinstance(message, RPCRequest) and not _valid_request(message):
            log.warning("answered a request with an id or method of the wrong type")
            self.answer_error(
                None,
                types.ErrorCodes.InvalidRequest,
                "a request's id must be a number or a string, and its method a string",
            )
            return
        # From the moment `shutdown` arrives, not when its handler (which drains
        # the writers) is done: pygls sets its own flag only then.
        if self.shutdown_received and method is not None and method != types.EXIT:
            if isinstance(message, RPCRequest):
                self.answer_error(
                    message.id,
                    types.ErrorCodes.InvalidRequest,
                    f"{method}: the server is shut down; only `exit` is accepted now",
                )
            else:
                log.info("%s after shutdown: ignored", method)
            return
        if method == types.INITIALIZE and isinstance(message, RPCRequest):
            if self.initialize_received:
                # A second one would start a second set of engines over the
                # first, which nothing would then stop.
                self.answer_error(
                    message.id, types.ErrorCodes.InvalidRequest, "initialize was already received"
                )
                return
            self.initialize_received = True
        if method == types.SHUTDOWN and isinstance(message, RPCRequest):
            self.shutdown_received = True
        super().handle_message(message)
        self._forget_finished()

    def answer_error(self, msg_id: MsgId | None, code: int, message: str) -> None:
        """A JSON-RPC error response; `msg_id` None when the request's id is unknown."""
        # A plain dict: lsprotocol's converter drops a None id, and JSON-RPC
        # wants `"id": null` in an answer to a message whose id is unknown.
        error = {"code": int(code), "message": message}
        self._send_data({"jsonrpc": JsonRPCProtocol.VERSION, "id": msg_id, "error": error})

    def _answer_not_a_message(self, message: Any) -> None:
        if isinstance(message, dict) and "method" not in message:
            log.warning("dropped a message that is neither a request nor a notification")
            return  # a response, maybe; answering one is not allowed
        msg_id = _usable_id(message.get("id")) if isinstance(message, dict) else None
        log.warning("answered a message that is not JSON-RPC 2.0 with InvalidRequest")
        self.answer_error(
            msg_id,
            types.ErrorCodes.InvalidRequest,
            'not a JSON-RPC 2.0 message: expected an object with "jsonrpc": "2.0" and "method"',
        )

    def _forget_finished(self) -> None:
        # pygls files every generator-run notification (didOpen/didChange/didClose)
        # under a fresh id and never removes it; answered requests it removes itself.
        done = [key for key, future in self._request_futures.items() if future.done()]
        for key in done:
            del self._request_futures[key]


def _usable_id(value: Any) -> MsgId | None:
    """The id, if it is one JSON-RPC allows (a number or a string); else None."""
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else None


def _valid_request(message: RPCRequest) -> bool:
    return _usable_id(message.id) is not None and isinstance(message.method, str)


def _params_problem(exc: JsonRpcException) -> str:
    """What is wrong with a message's params, by field, in the protocol's names."""
    cause = exc.__cause__
    if not isinstance(cause, BaseValidationError):
        return str(cause or exc)

    def describe(error: BaseException, expected: type | None) -> str:
        if isinstance(error, ValueError) and expected is None:
            return str(error)  # lsprotocol's range check names the field and its bounds
        return format_exception(error, expected)

    problems = transform_error(cause, format_exception=describe)
    return "; ".join(_lsp_names(problem) for problem in problems[:5])


def _lsp_names(problem: str) -> str:
    """`... @ params.text_document.uri` as the protocol spells it: `params.textDocument.uri`."""
    text, at, path = problem.rpartition(" @ ")
    if not at:
        return problem
    return f"{text} @ " + re.sub(r"_([a-z])", lambda m: m.group(1).upper(), path.removeprefix("$."))


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
        # Buffers being sent to their engine, and those typed in again meanwhile:
        # one send per document at a time, the newest text next (server/features/documents.py).
        self.buffers_sending: set[str] = set()
        self.buffers_changed_since: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._errors_shown: set[str] = set()

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

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls shows the user what a notification's handler raised: each distinct
        error once (and at most MAX_ERRORS_SHOWN), every one logged. A client
        changing a document it never opened would get a popup per keystroke."""
        if source is FeatureRequestError:
            return  # the request's answer carries it
        text = str(error)
        log.warning("error in a notification's handler: %s", text)
        if text in self._errors_shown or len(self._errors_shown) >= MAX_ERRORS_SHOWN:
            return
        self._errors_shown.add(text)
        super().report_server_error(error, source)

    def tell_user(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        log.warning("%s", message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))
