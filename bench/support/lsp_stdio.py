"""A minimal LSP client over a server process's stdio, for benches that time requests.

`LspProcess` starts the server as a subprocess, frames JSON-RPC messages with
Content-Length, and reads the server's output on one task. A response's time
is taken when that task has read and parsed it, so what a request costs is
the server's work plus both ends' framing and JSON, as an editor sees it, and
not when the awaiting coroutine happens to run next. Requests the server
makes of the client (`window/workDoneProgress/create`,
`client/registerCapability`, `workspace/configuration`) are answered with
null, as a client without those features would; notifications are kept by
method for `wait_notification`. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# A workspace/symbol answer at 100 hits is tens of KB; far beyond any message.
READ_LIMIT_BYTES = 64 * 2**20
METHOD_NOT_FOUND = -32601


class LspError(RuntimeError):
    """The server answered a request with an error."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        self.method = method
        self.code = int(error.get("code", 0))
        self.error = error
        super().__init__(f"{method}: {error.get('message')} (code {self.code})")


@dataclass(frozen=True, slots=True)
class Timed:
    """A response and the seconds from just before its request was written to its arrival."""

    seconds: float
    result: Any
    error: dict[str, Any] | None


class LspProcess:
    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        stderr: IO[bytes] | None = None,
    ) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.env = env
        self.stderr = stderr
        self.proc: asyncio.subprocess.Process | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[tuple[float, dict[str, Any]]]] = {}
        self._notifications: dict[str, list[Any]] = defaultdict(list)
        self._arrived = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    async def start(self) -> LspProcess:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.stderr if self.stderr is not None else asyncio.subprocess.DEVNULL,
            limit=READ_LIMIT_BYTES,
        )
        self._reader = asyncio.create_task(self._read_all(), name="lsp-stdio-reader")
        return self

    # --- sending ---------------------------------------------------------------------

    def _write(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None, "not started"
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def timed(self, method: str, params: Any, timeout_s: float = 60.0) -> Timed:
        """One request, timed from just before it is written to when its answer was read."""
        msg_id = next(self._ids)
        future: asyncio.Future[tuple[float, dict[str, Any]]] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[msg_id] = future
        start = time.perf_counter()
        self._write({"id": msg_id, "method": method, "params": params})
        assert self.proc is not None and self.proc.stdin is not None
        await self.proc.stdin.drain()
        try:
            arrived, message = await asyncio.wait_for(future, timeout_s)
        finally:
            self._pending.pop(msg_id, None)
        return Timed(arrived - start, message.get("result"), message.get("error"))

    async def request(self, method: str, params: Any, timeout_s: float = 60.0) -> Any:
        """The result of one request; LspError if the server answered with an error."""
        answer = await self.timed(method, params, timeout_s)
        if answer.error is not None:
            raise LspError(method, answer.error)
        return answer.result

    async def notify(self, method: str, params: Any) -> None:
        self._write({"method": method, "params": params})
        assert self.proc is not None and self.proc.stdin is not None
        await self.proc.stdin.drain()

    # --- receiving ---------------------------------------------------------------------

    async def _read_message(self) -> dict[str, Any] | None:
        assert self.proc is not None and self.proc.stdout is not None
        stdout = self.proc.stdout
        length: int | None = None
        while True:
            line = await stdout.readline()
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("ascii", "replace").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length is None:
            raise RuntimeError("the server sent a message without Content-Length")
        message = json.loads(await stdout.readexactly(length))
        if not isinstance(message, dict):
            raise RuntimeError(f"the server sent a message that is not an object: {message!r}")
        return message

    async def _read_all(self) -> None:
        try:
            while (message := await self._read_message()) is not None:
                arrived = time.perf_counter()
                method = message.get("method")
                if method is None:
                    future = self._pending.get(message.get("id"))  # type: ignore[arg-type]
                    if future is not None and not future.done():
                        future.set_result((arrived, message))
                elif "id" in message:
                    self._write({"id": message["id"], "result": None})
                else:
                    self._notifications[method].append(message.get("params"))
                    self._arrived.set()
        finally:
            gone = RuntimeError("the server closed its output")
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(gone)
            self._arrived.set()

    def notifications(self, method: str) -> list[Any]:
        return list(self._notifications[method])

    async def wait_notification(
        self, method: str, accept: Callable[[Any], bool] = lambda _: True, timeout_s: float = 60.0
    ) -> Any:
        """The first notification of `method` (already received or to come) that `accept`s."""
        deadline = time.monotonic() + timeout_s
        seen = 0
        while True:
            found = self._notifications[method]
            for params in found[seen:]:
                if accept(params):
                    return params
            seen = len(found)
            if self._reader is None or self._reader.done():
                raise RuntimeError(f"the server stopped before sending {method}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {method} notification within {timeout_s:g} s")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)

    # --- the session -------------------------------------------------------------------

    async def initialize(
        self, root: Path, options: dict[str, Any], timeout_s: float = 60.0
    ) -> dict[str, Any]:
        """`initialize` (one workspace folder, these initializationOptions), then `initialized`.
        `root` is absolute (its URI is the workspace folder's)."""
        uri = root.as_uri()
        result = await self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": uri,
                "workspaceFolders": [{"uri": uri, "name": root.name}],
                "capabilities": {},
                "initializationOptions": options,
            },
            timeout_s,
        )
        await self.notify("initialized", {})
        return dict(result)

    async def stop(self, timeout_s: float = 30.0) -> int | None:
        """`shutdown`, `exit`, and the process's end (killed if it does not end in time)."""
        proc = self.proc
        if proc is None:
            return None
        try:
            if proc.returncode is None:
                await self.request("shutdown", None, timeout_s)
                await self.notify("exit", None)
        except (RuntimeError, TimeoutError, ConnectionError):
            pass
        try:
            await asyncio.wait_for(proc.wait(), timeout_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await self._reader
        return proc.returncode
