"""A fake LLM host that misbehaves at the HTTP level, on purpose and on a script.

`FaultServer` is real HTTP on 127.0.0.1 (a `ThreadingHTTPServer` served from a
background thread, standard library only). Like `llm_server.LLMServer` it
speaks Ollama's `POST /api/chat` and the OpenAI-compatible
`POST /v1/chat/completions` (plus the GET probes `/api/tags`, `/api/version`,
`/v1/models`), and its well-behaved answer is `llm_server.ok_gloss`: a
schema-valid gloss built from the prompt's `Symbol:` and `Signature:` lines,
which passes Gloss's gate.

What it does with each chat request is decided by a `Plan` (a function of the
request's number, its symbol and its model) returning an `Action`; the actions
are the faults real hosts show:

    ok             the gloss, as a correct HTTP answer
    black_hole     read the request, never answer (until the server stops)
    slow_loris     status line and headers at once, then the body one byte a second
    status         an HTTP error (`status`, `retry_after`; `html=True`: an HTML body,
                   as a proxy in front of a dead host answers 502)
    cut_body       headers with the full Content-Length, half the body, then close
    truncated_json a complete HTTP answer whose JSON stops in the middle
    short_length   Content-Length says half of what is sent (the rest poisons the
                   kept-alive connection)
    long_length    Content-Length says more than is sent; the connection then idles
    huge_item      a valid gloss, one `pitfalls` item of `huge_bytes` (5 MB)
    huge_snippet   a valid gloss whose `usage_snippet` is `huge_bytes` long
    huge_body      `huge_bytes` of JSON whitespace, then a valid answer
    stream_cut     the answer streamed (Ollama NDJSON / OpenAI SSE, chunked) and cut
                   before its end
    wrong_function a valid gloss of a *different* function (`Plan.decoy` names it)
    echo_prompt    a gloss-shaped answer whose fields are the prompt's own lines
    echo_instructions  a gloss whose summary is the prompt's instruction for one

Any action may first wait `delay_s` (a host's service time). Plans: `always`,
`once_per_symbol`, `random_share` (seeded), `flapping`, `during_outage`,
`per_model`.

A closed port for the "refused" fault is `closed_port_url()`. Every chat
request is recorded (`requests`, `count_by_symbol()`, `wait_for_requests(n)`),
with the action it got.
`stop()` wakes every held or dribbling connection and closes it, so it
returns promptly.
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from bench.support.http_plumbing import (
    LoopbackHTTPServer,
    LoopbackServer,
    TrackedHandler,
    hang_up,
    serve_in_thread,
)
from bench.support.llm_server import (
    _SIGNATURE_RE,
    _SYMBOL_RE,
    _find_line,
    _message_text,
    _messages,
    _now_rfc3339,
    _prompt_text,
    _tokens,
    ok_gloss,
    parse_param_names,
)

__all__ = [
    "ACTIONS",
    "OK",
    "Action",
    "Decide",
    "FaultServer",
    "Plan",
    "RecordedChat",
    "Request",
    "always",
    "closed_port_url",
    "during_outage",
    "flapping",
    "once_per_symbol",
    "per_model",
    "random_share",
]

ACTIONS: Final = frozenset(
    {
        "ok",
        "black_hole",
        "slow_loris",
        "status",
        "cut_body",
        "truncated_json",
        "short_length",
        "long_length",
        "huge_item",
        "huge_snippet",
        "huge_body",
        "stream_cut",
        "wrong_function",
        "echo_prompt",
        "echo_instructions",
    }
)

HUGE_BYTES: Final = 5 * 1024 * 1024
PROXY_502_HTML: Final = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)
# How long a held connection (black hole, long Content-Length) waits for stop().
HOLD_LIMIT_S: Final = 600.0


@dataclass(frozen=True, slots=True)
class Action:
    kind: str = "ok"
    status: int = 500
    retry_after: float | None = None
    html: bool = False
    drip_s: float = 1.0  # slow_loris: seconds between bytes
    delay_s: float = 0.0  # before any answer: a host's service time
    huge_bytes: int = HUGE_BYTES

    def __post_init__(self) -> None:
        if self.kind not in ACTIONS:
            raise ValueError(f"unknown action {self.kind!r}; expected one of {sorted(ACTIONS)}")


OK: Final = Action()


@dataclass(frozen=True, slots=True)
class Request:
    """What a plan sees of one chat request."""

    number: int  # 0-based, in arrival order, over the whole server
    symbol: str | None
    model: str
    nth_for_symbol: int  # 0 for the first request naming this symbol
    since_first_s: float  # seconds since the server's first chat request


Decide = Callable[[Request], Action]


@dataclass
class Plan:
    """How a server answers: `decide` per request; `decoy` gives the (symbol,
    signature) of the *other* function a wrong-function answer describes."""

    decide: Decide
    decoy: Callable[[str], tuple[str, str]] | None = None
    description: str = ""


def always(action: Action) -> Decide:
    return lambda _req: action


def once_per_symbol(action: Action, times: int = 1) -> Decide:
    """The first `times` requests for each symbol get `action`; later ones are answered."""
    return lambda req: action if req.nth_for_symbol < times else OK


def random_share(
    action: Action,
    share: float,
    seed: int,
    max_in_a_row: int | None = None,
    max_run: int | None = None,
) -> Decide:
    """`action` for a `share` of requests, drawn from a seeded generator (in arrival order).

    `max_in_a_row`: no symbol gets more faults than this in a row, so a span that
    fails is one whose attempts the client gave up, not one the dice never spared.
    `max_run`: no more faults than this in a row over all requests, so the host is
    flaky, not down for a stretch (which a breaker may rightly call down)."""
    rng = random.Random(seed)
    lock = threading.Lock()
    streak: dict[str | None, int] = {}
    run = 0

    def decide(req: Request) -> Action:
        nonlocal run
        with lock:
            fault = rng.random() < share
            if fault and max_in_a_row is not None and streak.get(req.symbol, 0) >= max_in_a_row:
                fault = False
            if fault and max_run is not None and run >= max_run:
                fault = False
            streak[req.symbol] = streak.get(req.symbol, 0) + 1 if fault else 0
            run = run + 1 if fault else 0
            return action if fault else OK

    return decide


def flapping(action: Action, good: int = 3, bad: int = 3) -> Decide:
    """`good` answers, then `bad` faults, and so on, counted over all requests."""
    return lambda req: OK if req.number % (good + bad) < good else action


def during_outage(actions: tuple[Action, ...], seconds: float) -> Decide:
    """Faults (cycling through `actions`) for `seconds` after the first request, then answers."""

    def decide(req: Request) -> Action:
        if req.since_first_s < seconds:
            return actions[req.number % len(actions)]
        return OK

    return decide


def per_model(by_model: dict[str, Decide], default: Decide) -> Decide:
    return lambda req: by_model.get(req.model, default)(req)


def closed_port_url() -> str:
    """http://127.0.0.1:PORT where nothing listens (bound, then closed): refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass(frozen=True, slots=True)
class RecordedChat:
    api: str  # "ollama" | "openai"
    model: str
    symbol: str | None
    action: str
    received_at: float  # time.monotonic()


# --------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _instructions(body: dict[str, Any]) -> dict[str, str]:
    """The system prompt's bulleted lines by the key they describe ("summary" -> its text)."""
    system = "\n".join(
        _message_text(m.get("content")) for m in _messages(body) if m.get("role") == "system"
    )
    found: dict[str, str] = {}
    for match in re.finditer(r'^- "(\w+)": (.*(?:\n(?!- ).*)*)', system, re.MULTILINE):
        found[match.group(1)] = " ".join(match.group(2).split())
    found["closing"] = system.strip().splitlines()[-1] if system.strip() else ""
    return found


def echo_prompt_gloss(body: dict[str, Any], signature: str | None) -> dict[str, Any]:
    """A gloss-shaped answer that is only the prompt said back, as a small model parrots
    it: the request's header lines as the summary, each list the instruction for it,
    the code as the usage snippet. (The inputs are the signature's names: true, echoed.)"""
    user = "\n".join(
        _message_text(m.get("content")) for m in _messages(body) if m.get("role") == "user"
    )
    header, _, code = user.partition("Code:")
    said = _instructions(body)
    return {
        "summary": " ".join(header.split()),
        "inputs": parse_param_names(signature) if signature else [],
        "outputs": [said.get("outputs", "what it returns")],
        "side_effects": [said.get("side_effects", "I/O")],
        "pitfalls": [said.get("pitfalls", "edge cases")],
        "usage_snippet": code.strip().strip("`").split("\n", 1)[-1].strip(),
        "tags": ["json"],
    }


def echo_instructions_gloss(
    body: dict[str, Any], symbol: str | None, signature: str | None
) -> dict[str, Any]:
    """A gloss whose summary is the prompt's instruction for a summary, after the span's
    name; the lists are the instructions for them."""
    said = _instructions(body)
    name = (symbol or "code").rsplit(".", 1)[-1]
    inputs = parse_param_names(signature) if signature else []
    return {
        "summary": f"{name}: {said.get('summary', 'what the code does')}",
        "inputs": inputs,
        "outputs": [said.get("outputs", "what it returns")],
        "side_effects": [],
        "pitfalls": [said.get("closing", "no placeholders")],
        "usage_snippet": f"{name}({', '.join(inputs)})",
        "tags": ["documentation"],
    }


def _gloss_for(action: Action, plan: Plan, model: str, body: dict[str, Any]) -> dict[str, Any]:
    symbol = _find_line(body, _SYMBOL_RE)
    signature = _find_line(body, _SIGNATURE_RE)
    if action.kind == "wrong_function":
        if plan.decoy is None or symbol is None:
            raise ValueError("a wrong_function answer needs a plan with a decoy and a Symbol line")
        other, other_signature = plan.decoy(symbol)
        return ok_gloss(model, other, other_signature)
    if action.kind == "echo_prompt":
        return echo_prompt_gloss(body, signature)
    if action.kind == "echo_instructions":
        return echo_instructions_gloss(body, symbol, signature)
    gloss = ok_gloss(model, symbol, signature)
    if action.kind == "huge_item":
        gloss["pitfalls"] = [*gloss["pitfalls"], "bulk " * (action.huge_bytes // 5)]
    elif action.kind == "huge_snippet":
        gloss["usage_snippet"] = gloss["usage_snippet"] + " # " + "x" * action.huge_bytes
    return gloss


def _envelope(api: str, model: str, content: str, body: dict[str, Any]) -> dict[str, Any]:
    prompt_tokens = _tokens(_prompt_text(body))
    completion_tokens = _tokens(content)
    if api == "ollama":
        return {
            "model": model,
            "created_at": _now_rfc3339(),
            "message": {"role": "assistant", "content": content},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": prompt_tokens,
            "eval_count": completion_tokens,
        }
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _stream_chunks(api: str, model: str, content: str) -> list[bytes]:
    pieces = [content[i : i + 16] for i in range(0, len(content), 16)] or [""]
    if api == "ollama":
        lines = [
            _dumps({"model": model, "message": {"role": "assistant", "content": p}, "done": False})
            + "\n"
            for p in pieces
        ]
        lines.append(_dumps({"model": model, "message": {"content": ""}, "done": True}) + "\n")
        return [line.encode() for line in lines]
    events = [
        "data: "
        + _dumps({"object": "chat.completion.chunk", "choices": [{"delta": {"content": p}}]})
        + "\n\n"
        for p in pieces
    ]
    events.append("data: [DONE]\n\n")
    return [e.encode() for e in events]


def _error_json(api: str, status: int) -> bytes:
    message = f"fault server: HTTP {status}"
    if api == "ollama":
        return _dumps({"error": message}).encode()
    kind = "rate_limit_error" if status == 429 else "server_error"
    return _dumps({"error": {"message": message, "type": kind}}).encode()


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------


class _Hangup(Exception):
    """Close the connection now, without (the rest of) an answer."""


class _HTTPServer(LoopbackHTTPServer):
    request_queue_size = 256
    owner: FaultServer


class _Handler(TrackedHandler):
    server_version = "GlossFaultLLM/1.0"
    timeout = 60
    server: _HTTPServer

    def _raw(self, data: bytes) -> None:
        self.wfile.write(data)

    def _head(self, status: int, length: int | None, content_type: str, extra: str = "") -> bytes:
        reason = self.responses.get(status, ("",))[0]
        lines = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}"]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        if extra:
            lines.append(extra)
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _answer(self, status: int, data: bytes, content_type: str, extra: str = "") -> None:
        self._raw(self._head(status, len(data), content_type, extra) + data)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        models = self.server.owner.models_seen()
        if path == "/api/tags":
            data = _dumps({"models": [{"name": m, "model": m} for m in models]})
        elif path == "/api/version":
            data = _dumps({"version": "0.12.3"})
        elif path in ("/v1/models", "/v1/models/"):
            data = _dumps(
                {"object": "list", "data": [{"id": m, "object": "model"} for m in models]}
            )
        elif path in ("/", ""):
            self._answer(200, b"Ollama is running", "text/plain")
            return
        else:
            self._answer(404, b"404 page not found", "text/plain")
            return
        self._answer(200, data.encode(), "application/json")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        path = self.path.split("?", 1)[0]
        api = {"/api/chat": "ollama", "/v1/chat/completions": "openai"}.get(path.rstrip("/"))
        if api is None:
            self._answer(404, b"404 page not found", "text/plain")
            return
        try:
            body = json.loads(raw or b"null")
            model = body["model"]
        except (ValueError, TypeError, KeyError):
            self._answer(400, _error_json(api, 400), "application/json")
            return
        try:
            self.server.owner._serve_chat(self, api, str(model), body)
        except _Hangup:
            self.close_connection = True


class FaultServer(LoopbackServer):
    """A scripted, misbehaving Ollama + OpenAI-compatible host on 127.0.0.1 (module doc).
    Its url and openai_url are LoopbackServer's."""

    _what = "FaultServer"

    def __init__(self, plan: Plan | Decide | None = None) -> None:
        if plan is None:
            plan = Plan(always(OK))
        self.plan = plan if isinstance(plan, Plan) else Plan(plan)
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._requests: list[RecordedChat] = []
        self._per_symbol: dict[str | None, int] = {}
        self._first_at: float | None = None
        self._connections: set[socket.socket] = set()
        self._handler_threads: set[threading.Thread] = set()  # LoopbackServer adds them
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> FaultServer:
        if self._httpd is not None:
            raise RuntimeError("FaultServer already started")
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = serve_in_thread(httpd, 0.1, f"FaultServer:{httpd.server_port}")
        return self

    def stop(self) -> None:
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            conns = list(self._connections)
        hang_up(conns)
        if self._thread is not None:
            self._thread.join(5.0)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- observation -------------------------------------------------------

    @property
    def requests(self) -> list[RecordedChat]:
        with self._lock:
            return list(self._requests)

    def count_by_symbol(self) -> dict[str | None, int]:
        with self._lock:
            return dict(self._per_symbol)

    def wait_for_requests(self, n: int, timeout: float = 30.0) -> bool:
        """Block until `n` chat requests have arrived; False past `timeout`."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self._requests) >= n, timeout)

    def models_seen(self) -> list[str]:
        with self._lock:
            return sorted({r.model for r in self._requests})

    # -- internals ---------------------------------------------------------

    def _hold(self, seconds: float) -> None:
        """Wait `seconds`, or until stop(); then hang up if stopping."""
        if self._stopping.wait(seconds):
            raise _Hangup

    def _decide(self, api: str, model: str, body: dict[str, Any]) -> Action:
        symbol = _find_line(body, _SYMBOL_RE)
        now = time.monotonic()
        with self._lock:
            if self._first_at is None:
                self._first_at = now
            nth = self._per_symbol.get(symbol, 0)
            self._per_symbol[symbol] = nth + 1
            number = len(self._requests)
            request = Request(number, symbol, model, nth, now - self._first_at)
            # The decision is made under the lock so plans see requests in order.
            action = self.plan.decide(request)
            self._requests.append(RecordedChat(api, model, symbol, action.kind, now))
            self._arrived.notify_all()
        return action

    def _serve_chat(self, handler: _Handler, api: str, model: str, body: dict[str, Any]) -> None:
        action = self._decide(api, model, body)
        kind = action.kind
        if action.delay_s > 0:
            self._hold(action.delay_s)
        if kind == "black_hole":
            self._hold(HOLD_LIMIT_S)
            raise _Hangup
        if kind == "status":
            extra = "" if action.retry_after is None else f"Retry-After: {action.retry_after:g}"
            if action.html:
                handler._answer(
                    action.status, PROXY_502_HTML.encode(), "text/html; charset=utf-8", extra
                )
            else:
                handler._answer(
                    action.status, _error_json(api, action.status), "application/json", extra
                )
            return
        content = _dumps(_gloss_for(action, self.plan, model, body))
        if kind == "stream_cut":
            chunks = _stream_chunks(api, model, content)
            kept = chunks[: max(1, len(chunks) // 2)]
            ctype = "application/x-ndjson" if api == "ollama" else "text/event-stream"
            handler._raw(handler._head(200, None, ctype, "Transfer-Encoding: chunked"))
            for chunk in kept:
                handler._raw(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            raise _Hangup  # no terminating chunk: the stream is cut
        envelope = _dumps(_envelope(api, model, content, body)).encode()
        if kind == "huge_body":
            envelope = b" " * action.huge_bytes + envelope
        ctype = "application/json; charset=utf-8"
        if kind == "truncated_json":
            handler._answer(200, envelope[: len(envelope) // 2], ctype)
        elif kind == "cut_body":
            handler._raw(handler._head(200, len(envelope), ctype) + envelope[: len(envelope) // 2])
            raise _Hangup
        elif kind == "short_length":
            handler._raw(handler._head(200, len(envelope) // 2, ctype) + envelope)
        elif kind == "long_length":
            handler._raw(handler._head(200, len(envelope) + 4096, ctype) + envelope)
            self._hold(HOLD_LIMIT_S)
            raise _Hangup
        elif kind == "slow_loris":
            handler._raw(handler._head(200, len(envelope), ctype))
            for i in range(len(envelope)):
                handler._raw(envelope[i : i + 1])
                self._hold(action.drip_s)
        else:  # ok, huge_*, wrong_function, echo_*
            handler._answer(200, envelope, ctype)
