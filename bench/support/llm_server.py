"""A scriptable fake LLM server for tests and benchmarks.

``LLMServer`` is real HTTP on 127.0.0.1 (standard library only: a
``ThreadingHTTPServer`` served from a background thread). One port speaks both
APIs a Gloss backend may use:

* Ollama: ``POST /api/chat``, ``GET /api/tags``, ``GET /api/version``
  (and ``GET /``, which answers "Ollama is running" like the real server);
* OpenAI-compatible: ``POST /v1/chat/completions``, ``GET /v1/models``;
* embeddings, both APIs: ``POST /api/embed`` (Ollama) and ``POST /v1/embeddings``
  (OpenAI), answering `hashed_embedding` vectors (bench/support/hashed_embedding.py:
  a deterministic hashed bag of word stems, not a model), or those of ``embed``
  (e.g. bench/support/minilm.py's real all-MiniLM-L6-v2).

Every other path answers 404. Connections are HTTP/1.1 keep-alive with
``Content-Length`` on every answer.

In the default "ok" mode a chat request gets a deterministic, schema-valid
gloss built from the prompt: the symbol comes from a line ``Symbol: <qualname>``
in the user message and the ``inputs`` from a line ``Signature: ...``. A
``Behavior`` scripts anything else (slow, HTTP errors with ``Retry-After``,
dropped connections, garbage, cut or schema-violating JSON, filler, a missing
model), globally or scoped to a model and/or symbol, optionally for only the
first N matching requests. ``set_descriptions({qualname: text})`` makes the "ok"
gloss of those symbols say a given description (``described_gloss``): a retrieval
benchmark writes the glosses from descriptions it holds out from the queries.

Realism details worth knowing:

* ``capacity`` limits how many chat requests are *served* at once (the rest
  wait for a slot, like a GPU server with C slots); ``latency_s`` is the
  service time of every 200 answer, spent holding a slot.
* Ollama streams NDJSON unless the request says ``"stream": false`` (that is
  the real default); OpenAI streams SSE only with ``"stream": true``.
* ``max_tokens`` / ``max_completion_tokens`` (OpenAI) and
  ``options.num_predict`` (Ollama) are honoured: an answer longer than the
  limit (tokens ~ characters // 4) is cut with finish reason "length".
* Only chat requests are recorded in ``requests`` and counted in
  ``max_in_flight``; GET probes are recorded in ``probes``; embedding requests
  in ``embed_requests``. Embedding requests hold a ``capacity`` slot and pay
  ``latency_s`` like chat requests (so ``max_serving`` counts both), and
  behaviours scoped to their model (or the default) apply to them: "status",
  "drop", "garbage", "truncated" (cut JSON) and "invalid_schema" (no vectors)
  fail them; the other modes answer normally.
  ``wait_for_requests(n)`` and the general ``wait_for(predicate)`` block on a
  Condition that is notified on every change (call them from a thread, e.g.
  ``asyncio.to_thread``, inside async tests).
* ``models`` (a set) makes every other model answer 404 like the real server;
  ``reject_json_schema=True`` answers OpenAI ``json_schema`` response formats
  with llama-cpp-python's HTTP 500 (``json_object`` still works).
* ``apis`` (default both) names the APIs served: with ``{"openai"}`` every
  Ollama path answers 404, like a server that speaks only OpenAI's API.
* ``stop()`` wakes every sleeping or slot-waiting request (their connections
  are closed without an answer) and closes idle keep-alive connections, so it
  returns promptly.

Example::

    with LLMServer(capacity=2) as srv:
        srv.set_behavior(Behavior(mode="status", status=503, fail_times=1))
        ...  # point a client at srv.url (Ollama) or srv.openai_url (OpenAI)
        assert srv.wait_for_requests(2)
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.support.hashed_embedding import hashed_embedding
from bench.support.http_plumbing import (
    LoopbackHTTPServer,
    LoopbackServer,
    TrackedHandler,
    hang_up,
    serve_in_thread,
)

__all__ = [
    "MODES",
    "Behavior",
    "LLMServer",
    "RecordedRequest",
    "described_gloss",
    "parse_param_names",
]

MODES = frozenset({"ok", "garbage", "invalid_schema", "truncated", "status", "drop", "filler"})

GLOSS_KEYS = (
    "summary",
    "inputs",
    "outputs",
    "side_effects",
    "pitfalls",
    "usage_snippet",
    "tags",
)

REJECT_JSON_SCHEMA_BODY: dict[str, Any] = {
    "error": {
        "message": (
            "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
            "'msg': \"Input should be 'text' or 'json_object'\"}]"
        )
    }
}

OLLAMA_VERSION = "0.12.3"

_SYMBOL_RE = re.compile(r"^[ \t]*Symbol: (.*?)[ \t]*$", re.MULTILINE)
_SIGNATURE_RE = re.compile(r"^[ \t]*Signature: (.*?)[ \t]*$", re.MULTILINE)
_IDENT_RE = re.compile(r"[A-Za-z_]\w*")


@dataclass
class Behavior:
    """How the server answers matching chat requests.

    mode: "ok" | "garbage" (non-JSON text) | "invalid_schema" (a JSON object
    missing required fields / with wrong types) | "truncated" (cut JSON, finish
    reason "length") | "status" (HTTP ``status`` with a JSON error body) |
    "drop" (close the socket without any response) | "filler" (schema-valid
    JSON whose fields are "N/A" or empty).
    """

    mode: str = "ok"
    status: int = 500
    retry_after: float | None = None
    delay_s: float = 0.0
    fail_times: int | None = None
    model_missing: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it (chat requests and GET probes)."""

    api: str  # "ollama" | "openai"
    path: str
    model: str
    symbol: str | None
    body: dict[str, Any]
    headers: dict[str, str]  # keys lower-cased; lookups are case-insensitive
    received_at: float  # time.monotonic()


class _Headers(dict[str, str]):
    """A dict with lower-cased keys whose lookups ignore case."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


# --------------------------------------------------------------------------
# Prompt parsing and answer building (pure functions)
# --------------------------------------------------------------------------


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return ""


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    msgs = body.get("messages")
    if not isinstance(msgs, list):
        return []
    return [m for m in msgs if isinstance(m, dict)]


def _user_texts(body: dict[str, Any]) -> list[str]:
    """User message texts, last first."""
    return [
        _message_text(m.get("content"))
        for m in reversed(_messages(body))
        if m.get("role", "user") == "user"
    ]


def _find_line(body: dict[str, Any], pattern: re.Pattern[str]) -> str | None:
    for text in _user_texts(body):
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def _prompt_text(body: dict[str, Any]) -> str:
    return "\n".join(_message_text(m.get("content")) for m in _messages(body))


def _split_params(sig: str) -> tuple[str | None, str]:
    """Return (text inside the first top-level parentheses, text after them)."""
    start = sig.find("(")
    if start < 0:
        return None, ""
    depth = 0
    quote: str | None = None
    i = start
    while i < len(sig):
        ch = sig[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return sig[start + 1 : i], sig[i + 1 :]
        i += 1
    return sig[start + 1 :], ""


def _top_level_commas(text: str) -> list[str]:
    items: list[str] = []
    depth = 0
    quote: str | None = None
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and i + 1 < len(text):
                current.append(ch)
                i += 1
                ch = text[i]
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append("".join(current))
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    items.append("".join(current))
    return items


def parse_param_names(signature: str) -> list[str]:
    """Parameter names of a Python signature line, without self/cls.

    ``def f(a, b: int = 2)`` -> ``["a", "b"]``; ``*args``/``**kw`` give
    ``args``/``kw``; a ``class`` line gives ``[]`` (its parentheses hold bases).
    """
    sig = signature.strip()
    if re.match(r"(?:@.*\s+)?class\b", sig):
        return []
    inner, _ = _split_params(sig)
    if inner is None:
        return []
    names: list[str] = []
    for raw in _top_level_commas(inner):
        item = raw.strip().lstrip("*").strip()
        match = _IDENT_RE.match(item)
        if not match:
            continue
        name = match.group(0)
        if name in ("self", "cls") or name in names:
            continue
        names.append(name)
    return names


def _return_annotation(signature: str) -> str | None:
    _, rest = _split_params(signature.strip())
    rest = rest.strip()
    if rest.startswith("->"):
        ann = rest[2:].strip().rstrip(":").strip()
        return ann or None
    return None


def ok_gloss(model: str, symbol: str | None, signature: str | None) -> dict[str, Any]:
    """The deterministic gloss an "ok" answer carries."""
    sym = symbol or "this code"
    name = (symbol or "code").rsplit(".", 1)[-1]
    is_class = bool(signature and re.match(r"\s*class\b", signature))
    inputs = parse_param_names(signature) if signature else []
    ret = _return_annotation(signature) if signature else None
    if is_class:
        outputs = [f"a new {name} instance"]
    elif ret:
        outputs = [f"returns {ret}"]
    else:
        outputs = [f"the result of {name}"]
    return {
        "summary": f"{sym} (test model {model}) does what its name says, deterministically.",
        "inputs": inputs,
        "outputs": outputs,
        "side_effects": [],
        "pitfalls": [f"This gloss of {name} was written by the test server, not a model."],
        "usage_snippet": f"{name}({', '.join(inputs)})",
        "tags": ["test"],
    }


def described_gloss(symbol: str, signature: str | None, description: str) -> dict[str, Any]:
    """The "ok" gloss of a symbol given a description (`LLMServer.set_descriptions`).

    Its summary is the description; inputs and usage snippet come from the
    signature as in `ok_gloss`, outputs from its return annotation only. No side
    effects, pitfalls or tags: nothing was said of them, and words the
    description does not hold would change what a search finds."""
    name = symbol.rsplit(".", 1)[-1]
    inputs = parse_param_names(signature) if signature else []
    ret = _return_annotation(signature) if signature else None
    return {
        "summary": description,
        "inputs": inputs,
        "outputs": [f"returns {ret}"] if ret else [],
        "side_effects": [],
        "pitfalls": [],
        "usage_snippet": f"{name}({', '.join(inputs)})",
        "tags": [],
    }


FILLER_GLOSS: dict[str, Any] = {
    "summary": "N/A",
    "inputs": ["N/A"],
    "outputs": ["N/A"],
    "side_effects": [],
    "pitfalls": ["N/A"],
    "usage_snippet": "",
    "tags": [],
}

INVALID_SCHEMA_GLOSS: dict[str, Any] = {
    "summary": 42,
    "inputs": "a, b",
    "tags": "test",
    "comment": "outputs, side_effects, pitfalls and usage_snippet are missing",
}

GARBAGE_TEXT = (
    "Sure! Here is a summary of the function: it takes some arguments and "
    "returns something useful. Let me know if you need anything else."
)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _limit_tokens(api: str, body: dict[str, Any]) -> int | None:
    raw: Any
    if api == "openai":
        raw = body.get("max_completion_tokens", body.get("max_tokens"))
    else:
        options = body.get("options")
        raw = options.get("num_predict") if isinstance(options, dict) else None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
        return None
    return raw


def _wants_json_schema(body: dict[str, Any]) -> bool:
    fmt = body.get("response_format")
    return isinstance(fmt, dict) and fmt.get("type") == "json_schema"


def _format_retry_after(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# --------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------


class _Dropped(Exception):
    """Raised inside a handler to close the connection without an answer."""


class _HTTPServer(LoopbackHTTPServer):
    request_queue_size = 1024
    owner: LLMServer


class _Handler(TrackedHandler):
    server_version = "GlossTestLLM/1.0"
    timeout = 120  # idle keep-alive connections are closed after this
    server: _HTTPServer

    # -- helpers -----------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self,
        status: int,
        payload: bytes | str | dict[str, Any],
        *,
        content_type: str = "application/json; charset=utf-8",
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        if isinstance(payload, dict):
            data = _dumps(payload).encode()
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = payload
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _headers_dict(self) -> dict[str, str]:
        return _Headers((k.lower(), v) for k, v in self.headers.items())

    def _not_found(self) -> None:
        self._send(404, "404 page not found", content_type="text/plain")

    # -- routing -----------------------------------------------------------

    def _speaks(self, path: str) -> bool:
        api = "openai" if path.startswith("/v1/") else "ollama"
        return api in self.server.owner.apis

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        owner = self.server.owner
        if not self._speaks(path):
            self._not_found()
            return
        if path in ("/", ""):
            self._send(200, "Ollama is running", content_type="text/plain; charset=utf-8")
        elif path == "/api/version":
            owner._record_probe("ollama", path, self._headers_dict())
            self._send(200, {"version": OLLAMA_VERSION})
        elif path == "/api/tags":
            owner._record_probe("ollama", path, self._headers_dict())
            self._send(200, {"models": [_ollama_model_entry(m) for m in owner.listed_models()]})
        elif path in ("/v1/models", "/v1/models/"):
            owner._record_probe("openai", path, self._headers_dict())
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "gloss-test"}
                for m in owner.listed_models()
            ]
            self._send(200, {"object": "list", "data": data})
        elif path in ("/api/chat", "/v1/chat/completions"):
            self._send(405, {"error": "method not allowed"}, headers=[("Allow", "POST")])
        else:
            self._not_found()

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        body_bytes = self._read_body()
        path = self.path.split("?", 1)[0]
        if not self._speaks(path):
            self._not_found()
            return
        embed = path in ("/api/embed", "/v1/embeddings")
        if path in ("/api/chat", "/api/embed"):
            api = "ollama"
        elif path in ("/v1/chat/completions", "/v1/chat/completions/", "/v1/embeddings"):
            api = "openai"
        else:
            self._not_found()
            return
        try:
            body = json.loads(body_bytes or b"null")
        except ValueError as exc:
            self._send(400, _error_body(api, f"invalid JSON body: {exc}", "invalid_request_error"))
            return
        if not isinstance(body, dict):
            self._send(400, _error_body(api, "body must be a JSON object", "invalid_request_error"))
            return
        model = body.get("model")
        if not isinstance(model, str) or not model:
            self._send(400, _error_body(api, "model is required", "invalid_request_error"))
            return
        try:
            if embed:
                self.server.owner._handle_embed(self, api, path, model, body)
            else:
                self.server.owner._handle_chat(self, api, path, model, body)
        except _Dropped:
            self.close_connection = True


def _error_body(api: str, message: str, kind: str, code: Any = None) -> dict[str, Any]:
    if api == "ollama":
        return {"error": message}
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _ollama_model_entry(name: str) -> dict[str, Any]:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return {
        "name": name,
        "model": name,
        "modified_at": "2025-01-01T00:00:00Z",
        "size": 100_000_000,
        "digest": digest,
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": "test",
            "families": ["test"],
            "parameter_size": "135M",
            "quantization_level": "Q4_1",
        },
    }


def _now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Flight:
    """Bookkeeping of one chat request: in flight until answered (idempotent)."""

    def __init__(self, owner: LLMServer) -> None:
        self._owner = owner
        self.serving = False
        self.done = False

    def acquire_slot(self) -> bool:
        ok = self._owner._acquire_slot()
        self.serving = ok
        return ok

    def finish(self) -> None:
        # Called *before* the answer is written, so a client that sends its
        # next request the moment it has an answer never overlaps this one.
        if self.serving:
            self.serving = False
            self._owner._release_slot()
        if not self.done:
            self.done = True
            self._owner._leave_flight()


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


class LLMServer(LoopbackServer):
    """A fake Ollama + OpenAI-compatible LLM server on 127.0.0.1 (see module doc)."""

    _what = "LLMServer"

    def __init__(
        self,
        capacity: int | None = None,
        latency_s: float = 0.0,
        *,
        reject_json_schema: bool = False,
        models: Iterable[str] | None = None,
        port: int = 0,
        embed: Callable[[str], list[float]] = hashed_embedding,
    ) -> None:
        if capacity is not None and capacity < 1:
            raise ValueError("capacity must be >= 1 or None")
        self.capacity = capacity
        self.latency_s = latency_s
        self.reject_json_schema = reject_json_schema
        self.apis: set[str] = {"ollama", "openai"}
        self.models: set[str] | None = set(models) if models is not None else None
        self._port = port
        # What /api/embed and /v1/embeddings answer per text: the hashed bag of stems,
        # or a real model (bench/support/minilm.py).
        self.embed = embed
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._default = Behavior()
        self._scoped: dict[tuple[str | None, str | None], Behavior] = {}
        self._descriptions: dict[str, str] = {}
        self._fail_counts: dict[tuple[str | None, str | None], int] = {}
        self._requests: list[RecordedRequest] = []
        self._probes: list[RecordedRequest] = []
        self._embed_requests: list[RecordedRequest] = []
        self._in_flight = 0
        self._serving = 0
        self._max_in_flight = 0
        self._max_serving = 0
        self._counter = 0
        self._connections: set[socket.socket] = set()
        self._handler_threads: set[threading.Thread] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> LLMServer:
        if self._httpd is not None:
            raise RuntimeError("LLMServer already started")
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", self._port), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = serve_in_thread(httpd, 0.2, f"LLMServer:{httpd.server_port}")
        return self

    def stop(self) -> None:
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        # shutdown() returns once serve_forever notices it, which is at the next
        # poll tick; connecting wakes its selector so that happens at once.
        shutter = threading.Thread(target=httpd.shutdown, daemon=True)
        shutter.start()
        while shutter.is_alive():
            try:
                socket.create_connection(("127.0.0.1", httpd.server_port), timeout=1).close()
            except OSError:
                pass
            shutter.join(0.01)
        httpd.server_close()
        with self._lock:
            conns = list(self._connections)
            threads = list(self._handler_threads)
        hang_up(conns)
        deadline = time.monotonic() + 5.0
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
        self._httpd = None
        self._thread = None

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------

    # port, url, openai_url: LoopbackServer's.

    # -- scripting ---------------------------------------------------------

    def set_behavior(
        self, behavior: Behavior, *, model: str | None = None, symbol: str | None = None
    ) -> None:
        """Script answers; most specific wins: (model, symbol) > symbol > model > default.

        Setting a behaviour restarts its ``fail_times`` count.
        """
        if behavior.mode not in MODES:
            raise ValueError(f"unknown mode {behavior.mode!r}; expected one of {sorted(MODES)}")
        key = (model, symbol)
        with self._lock:
            if model is None and symbol is None:
                self._default = behavior
            else:
                self._scoped[key] = behavior
            self._fail_counts[key] = 0

    def set_descriptions(self, descriptions: Mapping[str, str]) -> None:
        """Answer "ok" requests for these symbols (qualname -> text) with `described_gloss`;
        replaces any descriptions set before. Other symbols get `ok_gloss`."""
        with self._lock:
            self._descriptions = dict(descriptions)

    def reset(self) -> None:
        """Default behaviour "ok" everywhere, no descriptions; forget requests, probes, peaks."""
        with self._cond:
            self._default = Behavior()
            self._scoped.clear()
            self._descriptions.clear()
            self._fail_counts.clear()
            self._requests.clear()
            self._probes.clear()
            self._embed_requests.clear()
            self._max_in_flight = self._in_flight
            self._max_serving = self._serving
            self._cond.notify_all()

    def listed_models(self) -> list[str]:
        """Models /api/tags and /v1/models list.

        ``models`` when set; otherwise (every model exists) the models named
        in scoped behaviours or seen in requests so far.
        """
        with self._lock:
            if self.models is not None:
                return sorted(self.models)
            names = {m for m, _ in self._scoped if m is not None}
            names.update(r.model for r in self._requests)
        return sorted(names)

    # -- observation -------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the chat requests received, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def probes(self) -> list[RecordedRequest]:
        """A snapshot of GET /api/tags, /api/version and /v1/models requests."""
        with self._lock:
            return list(self._probes)

    @property
    def embed_requests(self) -> list[RecordedRequest]:
        """A snapshot of the embedding requests received, in arrival order."""
        with self._lock:
            return list(self._embed_requests)

    def embedded_texts(self) -> list[str]:
        """Every text embedding requests asked for, in order (a batch's in its order)."""
        return [t for r in self.embed_requests for t in embed_inputs(r.body) or ()]

    def symbols(self) -> list[str | None]:
        with self._lock:
            return [r.symbol for r in self._requests]

    def _count(self, name: str) -> int:
        # The handler threads update these under the lock; read them under it too.
        with self._lock:
            value: int = getattr(self, name)
            return value

    @property
    def max_in_flight(self) -> int:
        """Peak number of chat requests between arrival and answer."""
        return self._count("_max_in_flight")

    @property
    def max_serving(self) -> int:
        """Peak number of chat requests holding a capacity slot."""
        return self._count("_max_serving")

    @property
    def in_flight(self) -> int:
        return self._count("_in_flight")

    @property
    def serving(self) -> int:
        return self._count("_serving")

    def wait_for_requests(self, n: int, timeout: float = 10.0) -> bool:
        """Block until at least ``n`` chat requests were recorded; False on timeout."""
        return self.wait_for(lambda s: len(s._requests) >= n, timeout)

    def wait_for(self, predicate: Callable[[LLMServer], bool], timeout: float = 10.0) -> bool:
        """Block until ``predicate(self)`` holds; it is re-checked on every change.

        The predicate runs with the server lock held: use the private fields
        or plain attributes, not the locking properties (e.g.
        ``lambda s: s._serving == 2``).
        """
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    # -- internals used by the handler --------------------------------------

    def _record_probe(self, api: str, path: str, headers: dict[str, str]) -> None:
        rec = RecordedRequest(api, path, "", None, {}, headers, time.monotonic())
        with self._lock:
            self._probes.append(rec)

    def _enter_flight(self, rec: RecordedRequest) -> None:
        with self._cond:
            self._requests.append(rec)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            self._cond.notify_all()

    def _leave_flight(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    def _acquire_slot(self) -> bool:
        with self._cond:
            while (
                self.capacity is not None
                and self._serving >= self.capacity
                and not self._stopping.is_set()
            ):
                self._cond.wait()
            if self._stopping.is_set():
                return False
            self._serving += 1
            self._max_serving = max(self._max_serving, self._serving)
            self._cond.notify_all()
            return True

    def _release_slot(self) -> None:
        with self._cond:
            self._serving -= 1
            self._cond.notify_all()

    def _resolve(self, model: str, symbol: str | None) -> Behavior:
        with self._lock:
            keys: list[tuple[str | None, str | None]] = []
            if symbol is not None:
                keys += [(model, symbol), (None, symbol)]
            keys.append((model, None))
            for key in keys:
                found = self._scoped.get(key)
                if found is not None:
                    behavior = found
                    break
            else:
                key, behavior = (None, None), self._default
            if behavior.fail_times is not None:
                used = self._fail_counts.get(key, 0)
                if used >= behavior.fail_times:
                    return Behavior()
                self._fail_counts[key] = used + 1
            return behavior

    def _next_id(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _sleep(self, seconds: float) -> None:
        """Sleep, unless the server stops first (then drop the connection)."""
        if seconds > 0 and self._stopping.wait(seconds):
            raise _Dropped
        if self._stopping.is_set():
            raise _Dropped

    def _handle_chat(
        self, handler: _Handler, api: str, path: str, model: str, body: dict[str, Any]
    ) -> None:
        started = time.monotonic()
        symbol = _find_line(body, _SYMBOL_RE)
        headers = handler._headers_dict()
        rec = RecordedRequest(api, path, model, symbol, body, headers, started)
        flight = _Flight(self)
        self._enter_flight(rec)
        try:
            if self._stopping.is_set():
                raise _Dropped
            self._answer_chat(handler, flight, api, model, symbol, body, started)
        finally:
            flight.finish()

    def _handle_embed(
        self, handler: _Handler, api: str, path: str, model: str, body: dict[str, Any]
    ) -> None:
        rec = RecordedRequest(
            api, path, model, None, body, handler._headers_dict(), time.monotonic()
        )
        with self._cond:
            self._embed_requests.append(rec)
            self._cond.notify_all()
        if self._stopping.is_set():
            raise _Dropped
        texts = embed_inputs(body)
        if texts is None:
            message = "input must be a string or a list of strings"
            handler._send(400, _error_body(api, message, "invalid_request_error"))
            return
        if self.models is not None and model not in self.models:
            handler._send(404, _missing_body(api, model))
            return
        behavior = self._resolve(model, None)
        if not self._acquire_slot():
            raise _Dropped
        try:
            self._sleep(behavior.delay_s)
            if behavior.model_missing:
                handler._send(404, _missing_body(api, model))
                return
            if behavior.mode == "drop":
                raise _Dropped
            if behavior.mode == "status":
                extra: list[tuple[str, str]] = []
                if behavior.retry_after is not None:
                    extra.append(("Retry-After", _format_retry_after(behavior.retry_after)))
                message = f"test server: scripted HTTP {behavior.status}"
                handler._send(
                    behavior.status, _error_body(api, message, "server_error"), headers=extra
                )
                return
            if behavior.mode == "garbage":
                handler._send(200, GARBAGE_TEXT, content_type="text/plain")
                return
            vectors = [self.embed(t) for t in texts]
            self._sleep(self.latency_s)
        finally:
            self._release_slot()
        tokens = sum(_tokens(t) for t in texts)
        answer: dict[str, Any]
        if behavior.mode == "invalid_schema":
            answer = {"model": model, "vectors": "none"}
        elif api == "ollama":
            answer = {
                "model": model,
                "embeddings": vectors,
                "total_duration": 0,
                "load_duration": 0,
                "prompt_eval_count": tokens,
            }
        else:
            answer = {
                "object": "list",
                "data": [
                    {"object": "embedding", "embedding": v, "index": i}
                    for i, v in enumerate(vectors)
                ],
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        text = _dumps(answer)
        if behavior.mode == "truncated":
            text = text[: len(text) // 2]
        handler._send(200, text)

    def _answer_chat(
        self,
        handler: _Handler,
        flight: _Flight,
        api: str,
        model: str,
        symbol: str | None,
        body: dict[str, Any],
        started: float,
    ) -> None:
        models = self.models
        if models is not None and model not in models:
            flight.finish()
            handler._send(404, _missing_body(api, model))
            return
        if api == "openai" and self.reject_json_schema and _wants_json_schema(body):
            flight.finish()
            handler._send(500, REJECT_JSON_SCHEMA_BODY)
            return

        behavior = self._resolve(model, symbol)
        if not flight.acquire_slot():
            raise _Dropped
        self._sleep(behavior.delay_s)

        if behavior.model_missing:
            flight.finish()
            handler._send(404, _missing_body(api, model))
            return
        if behavior.mode == "drop":
            raise _Dropped
        if behavior.mode == "status":
            extra: list[tuple[str, str]] = []
            if behavior.retry_after is not None:
                extra.append(("Retry-After", _format_retry_after(behavior.retry_after)))
            fallback = "server_error" if behavior.status >= 500 else "invalid_request_error"
            kinds = {429: "rate_limit_error", 503: "server_overloaded"}
            kind = kinds.get(behavior.status, fallback)
            message = f"test server: scripted HTTP {behavior.status}"
            flight.finish()
            handler._send(behavior.status, _error_body(api, message, kind), headers=extra)
            return

        finish_reason = "stop"
        if behavior.mode == "garbage":
            content = GARBAGE_TEXT
        elif behavior.mode == "invalid_schema":
            content = _dumps(INVALID_SCHEMA_GLOSS)
        elif behavior.mode == "filler":
            content = _dumps(FILLER_GLOSS)
        else:
            signature = _find_line(body, _SIGNATURE_RE)
            with self._lock:
                description = self._descriptions.get(symbol) if symbol else None
            if symbol and description:
                content = _dumps(described_gloss(symbol, signature, description))
            else:
                content = _dumps(ok_gloss(model, symbol, signature))
            if behavior.mode == "truncated":
                content = content[: max(1, len(content) // 2)]
                finish_reason = "length"
        limit = _limit_tokens(api, body)
        if limit is not None and _tokens(content) > limit:
            content = content[: limit * 4]
            finish_reason = "length"

        self._sleep(self.latency_s)
        prompt_tokens = _tokens(_prompt_text(body))
        completion_tokens = _tokens(content)
        duration_ns = int((time.monotonic() - started) * 1e9)
        request_id = self._next_id()
        stream = body.get("stream") is not False if api == "ollama" else body.get("stream") is True

        if api == "ollama":
            final = {
                "model": model,
                "created_at": _now_rfc3339(),
                "message": {"role": "assistant", "content": content},
                "done": True,
                "done_reason": finish_reason,
                "total_duration": duration_ns,
                "load_duration": 0,
                "prompt_eval_count": prompt_tokens,
                "prompt_eval_duration": duration_ns // 4,
                "eval_count": completion_tokens,
                "eval_duration": duration_ns - duration_ns // 4,
            }
            if not stream:
                flight.finish()
                handler._send(200, final)
                return
            lines = [
                _dumps(
                    {
                        "model": model,
                        "created_at": final["created_at"],
                        "message": {"role": "assistant", "content": piece},
                        "done": False,
                    }
                )
                for piece in _pieces(content)
            ]
            final["message"] = {"role": "assistant", "content": ""}
            lines.append(_dumps(final))
            flight.finish()
            handler._send(
                200,
                "".join(line + "\n" for line in lines),
                content_type="application/x-ndjson",
            )
            return

        created = int(time.time())
        completion_id = f"chatcmpl-test-{request_id}"
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if not stream:
            answer = {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": usage,
            }
            flight.finish()
            handler._send(200, answer)
            return
        events: list[dict[str, Any]] = []
        for i, piece in enumerate(_pieces(content)):
            delta: dict[str, Any] = {"content": piece}
            if i == 0:
                delta["role"] = "assistant"
            events.append({"index": 0, "delta": delta, "finish_reason": None})
        events.append({"index": 0, "delta": {}, "finish_reason": finish_reason})
        chunks = [
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [choice],
            }
            for choice in events
        ]
        stream_options = body.get("stream_options")
        if isinstance(stream_options, dict) and stream_options.get("include_usage"):
            chunks.append(
                {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }
            )
        text = "".join(f"data: {_dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        flight.finish()
        handler._send(200, text, content_type="text/event-stream")


def embed_inputs(body: dict[str, Any]) -> list[str] | None:
    """The texts an embedding request asks for (`input`, Ollama's and OpenAI's alike)."""
    raw = body.get("input")
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and all(isinstance(t, str) for t in raw):
        return list(raw)
    return None


def _missing_body(api: str, model: str) -> dict[str, Any]:
    if api == "ollama":
        return {"error": f'model "{model}" not found, try pulling it first'}
    return {
        "error": {
            "message": f"The model `{model}` does not exist",
            "type": "invalid_request_error",
            "code": "model_not_found",
        }
    }


def _pieces(content: str, size: int = 16) -> list[str]:
    return [content[i : i + size] for i in range(0, len(content), size)] or [""]
