"""HTTP/1.1 to a model host on asyncio's own transports: the request path of every span.

Against a host that answers at once, httpx cost about 1 ms of CPU per request
(request and URL models, the cookie jar, a pool that polls every idle socket
before each request, the head and the body in two writes): more than all the
rest of Gloss's work on a span. A model host needs a JSON POST or a GET with a
few headers, an answer framed by Content-Length or chunks (or the end of the
connection), and keep-alive. This module does that and nothing more: it never
retries, never follows redirects, never sends cookies. `http.py` uses it for
backends reached without a proxy, and httpx where the environment names one.

What it must never do: hand out a connection that is not clean. A connection
goes back to the idle list only when its answer was read to its exact end, the
server did not ask to close, and no byte is left over; an idle connection the
server closed, or that received bytes nobody asked for, is dropped when next
picked. A request cancelled or failed part-way closes its connection.

Deadlines are the caller's (`asyncio.timeout` around the whole exchange); only
connecting has its own, as httpx's `connect` timeout did.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

MAX_HEAD_BYTES: Final = 64 * 1024  # status line and headers of one answer
MAX_CHUNK_LINE_BYTES: Final = 4096


class ProtocolError(Exception):
    """The server closed the connection early or sent something that is not HTTP/1.x."""


class ConnectFailed(Exception):
    """No connection could be made; `cause` says why (an OSError or TimeoutError)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class TooBig(Exception):
    """A success answer's body passed the limit; `declared` is its Content-Length if
    that said so up front (then nothing of the body was read)."""

    def __init__(self, declared: str | None) -> None:
        super().__init__(declared)
        self.declared = declared


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]  # names in lower case; a repeated header keeps its last value
    body: bytes


class _Connection(asyncio.Protocol):
    """One socket: bytes in a buffer, a future to wait on for more."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    @property
    def clean(self) -> bool:
        """Fit to carry the next request: open, nothing unread."""
        return (
            not self.closed
            and not self.buffer
            and self.transport is not None
            and not self.transport.is_closing()
        )

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def _more(self, what: str) -> None:
        """Wait for more bytes; ProtocolError if the connection has ended."""
        if self.closed:
            raise ProtocolError(f"Server disconnected {what}.")
        waiter = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        try:
            await waiter
        finally:
            self._waiter = None

    async def read_until(self, marker: bytes, limit: int, what: str) -> bytes:
        """The bytes before `marker` (which is consumed too)."""
        start = 0
        while True:
            found = self.buffer.find(marker, start)
            if found >= 0:
                data = bytes(self.buffer[:found])
                del self.buffer[: found + len(marker)]
                return data
            if len(self.buffer) > limit:
                raise ProtocolError(f"{what} longer than {limit} bytes")
            start = max(0, len(self.buffer) - len(marker) + 1)
            await self._more(what)

    async def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            await self._more("before the end of the body")
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    async def read_some(self) -> bytes:
        """What has arrived, waiting for something; b"" once the connection has ended."""
        while not self.buffer:
            if self.closed:
                return b""
            await self._more("")
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


class Wire:
    """Keep-alive connections to one host; requests under the caller's concurrency cap."""

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str],
        *,
        connect_timeout_s: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = (
            (ssl_context or ssl.create_default_context()) if parts.scheme == "https" else None
        )
        self._base_path = parts.path.rstrip("/")
        self._connect_timeout_s = connect_timeout_s
        host = f"[{self._host}]" if ":" in self._host else self._host
        default_port = parts.port is None or parts.port == (443 if self._ssl else 80)
        lines = [f"Host: {host if default_port else f'{host}:{self._port}'}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._common_head = "".join(f"{line}\r\n" for line in lines)
        self._idle: list[_Connection] = []

    async def request(
        self, method: str, path: str, body: bytes | None, limit: int
    ) -> tuple[Response, _Connection | None]:
        """One exchange: the answer, and its connection if it is back in the idle list.

        `limit` bounds the body: past it a success answer raises TooBig; an error
        answer (status >= 400) is cut there, enough to quote."""
        head = f"{method} {self._base_path}{path} HTTP/1.1\r\n{self._common_head}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        data = (head + "\r\n").encode("latin-1") + (body or b"")
        connection = await self._connection()
        reusable = False
        try:
            assert connection.transport is not None
            connection.transport.write(data)
            response, reusable = await _read_response(connection, method, limit)
        finally:
            if reusable and connection.clean:
                self._idle.append(connection)
            else:
                connection.close()
        return response, connection if reusable else None

    def discard(self, connection: _Connection | None) -> None:
        """Never reuse this connection (its answer made no sense: its framing may be off)."""
        if connection is None:
            return
        if connection in self._idle:
            self._idle.remove(connection)
        connection.close()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    async def _connection(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection.clean:
                return connection
            connection.close()  # closed by the server while idle, or sent unasked bytes
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                _, protocol = await loop.create_connection(
                    _Connection,
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl else None,
                )
        except (OSError, TimeoutError) as exc:
            raise ConnectFailed(exc) from None
        return protocol


async def _read_response(connection: _Connection, method: str, limit: int) -> tuple[Response, bool]:
    """(the answer, whether the connection may carry another request)."""
    while True:
        status, version, headers = _parse_head(
            await connection.read_until(
                b"\r\n\r\n", MAX_HEAD_BYTES, "without sending a complete response head"
            )
        )
        if not 100 <= status < 200 or status == 101:
            break  # 1xx (e.g. 100 Continue) come before the answer proper
    keep_alive = "close" not in headers.get("connection", "").lower() and (
        version == b"HTTP/1.1" or "keep-alive" in headers.get("connection", "").lower()
    )
    if method == "HEAD" or status in (204, 304):
        return Response(status, headers, b""), keep_alive
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body, whole = await _read_chunked(connection, status, limit)
    elif "content-length" in headers:
        body, whole = await _read_sized(connection, headers["content-length"], status, limit)
    else:
        body, _ = await _read_to_close(connection, status, limit)
        whole = False  # framed by the end of the connection: nothing more comes on it
    encoding = headers.get("content-encoding", "").lower()
    if encoding in ("gzip", "deflate") and whole:
        # Asked for identity; a server that compresses anyway is decoded, to the limit.
        body = _decompress(body, encoding, status, limit)
    return Response(status, headers, body), whole and keep_alive


def _parse_head(head: bytes) -> tuple[int, bytes, dict[str, str]]:
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name.strip():
            raise ProtocolError(f"malformed header line: {line[:80]!r}")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return int(parts[1]), parts[0], headers


async def _read_sized(
    connection: _Connection, declared: str, status: int, limit: int
) -> tuple[bytes, bool]:
    if not declared.isdigit():
        raise ProtocolError(f"Content-Length is not a number: {declared[:40]!r}")
    size = int(declared)
    if size > limit:
        if status >= 400:
            return b"", False  # an error page: its status says enough
        raise TooBig(declared)
    return await connection.read_exactly(size), True


async def _read_chunked(connection: _Connection, status: int, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        line = await connection.read_until(b"\r\n", MAX_CHUNK_LINE_BYTES, "inside a chunk size")
        digits = line.split(b";", 1)[0].strip()
        try:
            chunk_size = int(digits, 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size line: {line[:40]!r}") from None
        if chunk_size == 0:
            # Trailers, if any, end with an empty line.
            while await connection.read_until(b"\r\n", MAX_HEAD_BYTES, "inside the trailers"):
                pass
            return b"".join(chunks), True
        size += chunk_size
        if size > limit:
            if status >= 400:
                return b"".join(chunks), False
            raise TooBig(None)
        chunks.append(await connection.read_exactly(chunk_size))
        if await connection.read_exactly(2) != b"\r\n":
            raise ProtocolError("a chunk does not end with CRLF")


async def _read_to_close(connection: _Connection, status: int, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while piece := await connection.read_some():
        size += len(piece)
        if size > limit:
            if status >= 400:
                return b"".join(chunks), False
            raise TooBig(None)
        chunks.append(piece)
    return b"".join(chunks), False


def _decompress(body: bytes, encoding: str, status: int, limit: int) -> bytes:
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    try:
        data = decoder.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ProtocolError(f"{encoding} body does not decompress: {exc}") from None
    if len(data) > limit:
        if status >= 400:
            return data[:limit]
        raise TooBig(None)
    return data
