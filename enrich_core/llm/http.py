"""LLM backends over HTTP: Ollama (`/api/chat`) and OpenAI-compatible (`/chat/completions`).

One connection pool per backend and a semaphore that makes the backend's
`max_concurrency` a hard cap on requests in flight. The pool is `wire.Wire`
(HTTP/1.1 on asyncio's transports, a fraction of httpx's CPU per request,
which is most of Gloss's own cost per span against a fast host), or an
`httpx.AsyncClient` where the environment names a proxy for the backend's URL
(httpx speaks to proxies; `wire` does not) or a test hands in a transport.
Every failure becomes a `BackendError` with a class
(refused, timeout, rate limited, server error, bad response, model missing,
client error) and a message naming the backend and its URL. This module never
retries or decides what to do next: that is the router's job.

Every request has one deadline, `timeout_s`, over all of it (connect, headers,
the whole body), and its body is read as a stream up to `max_response_bytes`:
a bigger answer is cut off and rejected without reading the rest. A connection
whose answer was not valid JSON is closed rather than pooled, since a wrong
Content-Length would leave it out of step with the next answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import ssl
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from enrich_core.config import BackendConfig
from enrich_core.llm.backend import (
    REPEAT_PENALTY,
    BackendError,
    Completion,
    CompletionRequest,
    ErrorKind,
    parse_chat_completion,
    token_count,
)
from enrich_core.llm.body_json import Verbatim, encode_body
from enrich_core.llm.slots import SlotLimit
from enrich_core.llm.wire import ConnectFailed, ProtocolError, TooBig, Wire

if TYPE_CHECKING:
    import httpx  # imported when a backend needs it: a proxy, or a test's transport

log = logging.getLogger(__name__)

# A model list is not an answer: a hosted API lists hundreds of models with
# long descriptions, so it gets its own, larger bound.
MODEL_LIST_BYTES = 16 * 1024 * 1024


class HttpBackend(ABC):
    """What both HTTP APIs share: the client, the cap, and error classification."""

    def __init__(self, config: BackendConfig, transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        # Requests waiting for a slot or running: what the router weighs hosts by.
        self.in_flight = 0
        self.errors = 0
        self.slots = SlotLimit(config.max_concurrency)
        headers = {"User-Agent": "gloss"}
        self._missing_key: str | None = None
        if config.api_key_env:
            key = os.environ.get(config.api_key_env)
            if key:
                headers["Authorization"] = f"Bearer {key}"
            else:
                self._missing_key = config.api_key_env
        connect_s = min(10.0, config.timeout_s)
        self._wire: Wire | None = None
        self._client: httpx.AsyncClient | None = None
        if transport is None and not _proxied(config.url):
            self._wire = Wire(
                config.url,
                {**headers, "Accept": "*/*", "Accept-Encoding": "identity"},
                connect_timeout_s=connect_s,
                ssl_context=_ssl_context() if config.url.startswith("https:") else None,
            )
            return
        import httpx

        self._client = httpx.AsyncClient(
            base_url=config.url,
            headers=headers,
            timeout=httpx.Timeout(config.timeout_s, connect=connect_s),
            limits=httpx.Limits(
                max_connections=config.max_concurrency,
                max_keepalive_connections=config.max_concurrency,
            ),
            transport=transport,
        )

    def error(self, kind: ErrorKind, detail: str, retry_after: float | None = None) -> BackendError:
        return BackendError(self.config, kind, detail, retry_after)

    async def _request(
        self, method: str, path: str, body: Any = None, *, limit: int | None = None
    ) -> Any:
        """The decoded JSON answer. `limit`: the most bytes read (default max_response_bytes)."""
        if self._missing_key:
            raise self.error(
                ErrorKind.CLIENT_ERROR,
                f"api_key_env names {self._missing_key}, which is not set in the environment",
            )
        self.in_flight += 1
        try:
            async with self.slots:
                return await self._exchange(
                    method, path, body, limit or self.config.max_response_bytes
                )
        finally:
            self.in_flight -= 1

    async def _exchange(self, method: str, path: str, body: Any, limit: int) -> Any:
        """One request under one deadline: connecting, the headers and the whole body.

        A per-read timeout would let a server dribbling a byte a second hold a
        request for ever; `timeout_s` bounds all of it. The waiting for a slot
        above is not part of it: that is this side's queue."""
        data = None if body is None else encode_body(body)
        if self._wire is not None:
            return await self._exchange_wire(self._wire, method, path, data, limit)
        return await self._exchange_httpx(method, path, data, limit)

    async def _exchange_wire(
        self, wire: Wire, method: str, path: str, data: bytes | None, limit: int
    ) -> Any:
        try:
            async with asyncio.timeout(self.config.timeout_s):
                response, connection = await wire.request(method, path, data, limit)
        except TimeoutError:
            raise self.error(
                ErrorKind.TIMEOUT, f"no complete answer within {self.config.timeout_s:g} s"
            ) from None
        except TooBig as exc:
            raise self.error(ErrorKind.BAD_RESPONSE, _too_big(limit, exc.declared)) from None
        except ConnectFailed as exc:
            if isinstance(exc.cause, TimeoutError):
                raise self.error(
                    ErrorKind.TIMEOUT, f"no answer within {self.config.timeout_s:g} s"
                ) from None
            raise self.error(ErrorKind.REFUSED, _connect_failure(exc.cause)) from None
        except (ProtocolError, OSError) as exc:
            raise self.error(
                ErrorKind.SERVER_ERROR,
                f"connection closed without a full answer ({type(exc).__name__}: {_short(exc)})",
            ) from None
        try:
            return self._decode(response.status, response.headers, response.body)
        except BackendError as exc:
            if exc.kind is ErrorKind.BAD_RESPONSE:
                wire.discard(connection)  # its framing may be off: not used again
            raise

    async def _exchange_httpx(self, method: str, path: str, data: bytes | None, limit: int) -> Any:
        import httpx

        assert self._client is not None
        headers = {} if data is None else {"Content-Type": "application/json"}
        try:
            async with asyncio.timeout(self.config.timeout_s):
                async with self._client.stream(
                    method, path, content=data, headers=headers
                ) as response:
                    data = await self._read_body(response, limit)
                    try:
                        return self._decode(response.status_code, response.headers, data)
                    except BackendError as exc:
                        if exc.kind is ErrorKind.BAD_RESPONSE:
                            # The framing may be off (a wrong Content-Length leaves
                            # bytes behind): this connection is not used again.
                            await _drop_connection(response)
                        raise
        except TimeoutError:
            raise self.error(
                ErrorKind.TIMEOUT, f"no complete answer within {self.config.timeout_s:g} s"
            ) from None
        except httpx.ConnectError as exc:
            raise self.error(ErrorKind.REFUSED, _connect_detail(exc)) from None
        except httpx.TimeoutException:
            raise self.error(
                ErrorKind.TIMEOUT, f"no answer within {self.config.timeout_s:g} s"
            ) from None
        except httpx.TransportError as exc:
            raise self.error(
                ErrorKind.SERVER_ERROR,
                f"connection closed without a full answer ({type(exc).__name__}: {_short(exc)})",
            ) from None

    async def _read_body(self, response: httpx.Response, limit: int) -> bytes:
        """The body, read as it streams in; past `limit` bytes the rest is not read and
        the connection is closed (leaving the `async with` unread closes it)."""
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            if response.status_code >= 400:
                return b""  # an error page: its status says enough
            raise self.error(ErrorKind.BAD_RESPONSE, _too_big(limit, declared))
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                if response.status_code >= 400:
                    break  # enough of an error page to quote
                raise self.error(ErrorKind.BAD_RESPONSE, _too_big(limit, None))
            chunks.append(chunk)
        return b"".join(chunks)

    def _decode(self, status: int, headers: Mapping[str, str], data: bytes) -> Any:
        if status >= 400:
            text = data[:300].decode("utf-8", "replace")
            if status == 429:
                raise self.error(ErrorKind.RATE_LIMITED, f"HTTP 429: {text}", _retry_after(headers))
            if status == 404 and "model" in text.lower():
                raise self.error(ErrorKind.MODEL_MISSING, f"HTTP 404: {text}")
            if status >= 500:
                raise self.error(
                    ErrorKind.SERVER_ERROR, f"HTTP {status}: {text}", _retry_after(headers)
                )
            raise self.error(ErrorKind.CLIENT_ERROR, f"HTTP {status}: {text}")
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise self.error(ErrorKind.BAD_RESPONSE, f"body is not JSON: {data[:120]!r}") from None

    @abstractmethod
    async def complete(self, request: CompletionRequest) -> Completion: ...

    @abstractmethod
    async def list_models(self) -> list[str]: ...

    async def aclose(self) -> None:
        if self._wire is not None:
            await self._wire.aclose()
        if self._client is not None:
            await self._client.aclose()


class OllamaBackend(HttpBackend):
    async def complete(self, request: CompletionRequest) -> Completion:
        body = {
            "model": request.model,
            "messages": _messages(request.messages),
            "stream": False,
            "format": Verbatim(request.schema),
            "keep_alive": self.config.keep_alive,
            "options": {
                "temperature": request.temperature,
                "num_predict": request.max_tokens,
                "num_ctx": request.context_tokens,
                "repeat_penalty": REPEAT_PENALTY,
            },
        }
        data = await self._request("POST", "/api/chat", body)
        try:
            text = data["message"]["content"]
            if not isinstance(text, str):
                raise TypeError("content is not a string")
        except (KeyError, TypeError) as exc:
            raise self.error(ErrorKind.BAD_RESPONSE, f"no message.content ({exc})") from None
        return Completion(
            text=text,
            finish_reason=data.get("done_reason"),
            tokens_in=token_count(data.get("prompt_eval_count")),
            tokens_out=token_count(data.get("eval_count")),
        )

    async def list_models(self) -> list[str]:
        data = await self._request("GET", "/api/tags", limit=MODEL_LIST_BYTES)
        models = data.get("models", []) if isinstance(data, dict) else []
        return [str(m.get("name") or m.get("model")) for m in models if isinstance(m, dict)]


class OpenAIBackend(HttpBackend):
    def __init__(self, config: BackendConfig, transport: httpx.AsyncBaseTransport | None = None):
        super().__init__(config, transport)
        # Some OpenAI-compatible servers (llama-cpp-python's) refuse the
        # json_schema response format; learned once per backend, then reused.
        self._json_schema_ok = True

    def _body(self, request: CompletionRequest) -> dict[str, Any]:
        if self._json_schema_ok:
            response_format: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {
                    "name": "gloss",
                    "schema": Verbatim(request.schema),
                    "strict": True,
                },
            }
        else:
            response_format = {"type": "json_object", "schema": Verbatim(request.schema)}
        return {
            "model": request.model,
            "messages": _messages(request.messages),
            "response_format": response_format,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "frequency_penalty": REPEAT_PENALTY - 1.0,
        }

    async def complete(self, request: CompletionRequest) -> Completion:
        try:
            data = await self._request("POST", "/chat/completions", self._body(request))
        except BackendError as exc:
            if not (self._json_schema_ok and _refuses_json_schema(exc)):
                raise
            self._json_schema_ok = False
            log.warning(
                "backend %r (%s) refuses response_format json_schema; "
                "using json_object with the schema from now on",
                self.config.name,
                self.config.url,
            )
            data = await self._request("POST", "/chat/completions", self._body(request))
        return parse_chat_completion(data, self.error)

    async def list_models(self) -> list[str]:
        data = await self._request("GET", "/models", limit=MODEL_LIST_BYTES)
        models = data.get("data", []) if isinstance(data, dict) else []
        return [str(m.get("id")) for m in models if isinstance(m, dict)]


def _messages(messages: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The messages, the system message's text (every request's same instructions)
    encoded once (`body_json`)."""
    return [
        {**m, "content": Verbatim(m["content"])} if m.get("role") == "system" else m
        for m in messages
    ]


def _refuses_json_schema(exc: BackendError) -> bool:
    if exc.kind not in (ErrorKind.SERVER_ERROR, ErrorKind.CLIENT_ERROR):
        return False
    detail = exc.detail.lower()
    return "json_object" in detail or ("response_format" in detail and "json_schema" in detail)


def _too_big(limit: int, declared: str | None) -> str:
    text = f"answer larger than {limit} bytes (max_response_bytes); the rest was not read"
    return text if declared is None else f"{text} (Content-Length {declared})"


def _proxied(url: str) -> bool:
    """Whether the environment names a proxy for `url` (HTTP_PROXY, ALL_PROXY, NO_PROXY)."""
    proxies = urllib.request.getproxies_environment()
    scheme = urlsplit(url).scheme
    if not (proxies.get(scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(urlsplit(url).netloc)  # NO_PROXY


def _ssl_context() -> ssl.SSLContext:
    """The certificates httpx would trust (certifi, or SSL_CERT_FILE / SSL_CERT_DIR)."""
    import httpx

    return httpx.create_ssl_context()


def _connect_failure(cause: BaseException) -> str:
    if isinstance(cause, socket.gaierror):
        return "host name not found"
    text = str(cause).lower()
    if (
        isinstance(cause, ConnectionRefusedError)
        or "refused" in text
        or "connect call failed" in text
    ):
        return "connection refused (is the server running?)"
    return f"could not connect ({_short(cause)})"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


async def _drop_connection(response: httpx.Response) -> None:
    """Close the socket under a fully read response, so the pool never reuses it.

    (An idle pooled connection whose socket is closed counts as expired and is
    discarded at the next request; httpx has no public call for this.)"""
    stream = response.extensions.get("network_stream")
    if stream is not None:
        try:
            await stream.aclose()
        except OSError:
            pass


def _connect_detail(exc: httpx.ConnectError) -> str:
    text = str(exc).lower()
    if "refused" in text or "all connection attempts failed" in text:
        return "connection refused (is the server running?)"
    if "name or service not known" in text or "nodename" in text:
        return "host name not found"
    return f"could not connect ({_short(exc)})"


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1][:200] if text else ""
