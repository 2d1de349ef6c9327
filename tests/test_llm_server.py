"""Tests of the fake LLM server (bench/support/llm_server.py) over real HTTP with httpx."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from bench.support.llm_server import (
    GLOSS_KEYS,
    REJECT_JSON_SCHEMA_BODY,
    Behavior,
    LLMServer,
    parse_param_names,
)

APIS = ("ollama", "openai")
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {k: {"type": "string"} for k in GLOSS_KEYS},
    "required": list(GLOSS_KEYS),
}


def prompt(symbol: str = "pkg.mod.Klass.method", signature: str | None = None) -> str:
    sig = signature if signature is not None else "def method(self, a, b: int = 2) -> str"
    return f"Explain this span.\nSymbol: {symbol}\nSignature: {sig}\n\n```python\n...\n```\n"


def chat_body(api: str, model: str, text: str, **extra: Any) -> dict[str, Any]:
    messages = [
        {"role": "system", "content": "You write JSON glosses."},
        {"role": "user", "content": text},
    ]
    if api == "ollama":
        body: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "stream": False,
            "format": SCHEMA,
            "options": {"temperature": 0},
            "keep_alive": "5m",
        }
    else:
        body = {
            "model": model,
            "messages": messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "gloss", "schema": SCHEMA, "strict": True},
            },
            "max_tokens": 1024,
            "temperature": 0,
        }
    body.update(extra)
    return body


def post_chat(
    client: httpx.Client,
    server: LLMServer,
    api: str,
    *,
    model: str = "tiny",
    symbol: str = "pkg.mod.Klass.method",
    signature: str | None = None,
    **extra: Any,
) -> httpx.Response:
    body = chat_body(api, model, prompt(symbol, signature), **extra)
    if api == "ollama":
        return client.post(f"{server.url}/api/chat", json=body)
    return client.post(
        f"{server.openai_url}/chat/completions",
        json=body,
        headers={"Authorization": "Bearer sk-test"},
    )


def content_of(api: str, resp: httpx.Response) -> tuple[str, str]:
    """(content text, finish reason) of a 200 chat answer."""
    data = resp.json()
    if api == "ollama":
        assert data["done"] is True
        assert data["message"]["role"] == "assistant"
        return data["message"]["content"], data["done_reason"]
    choice = data["choices"][0]
    assert choice["message"]["role"] == "assistant"
    return choice["message"]["content"], choice["finish_reason"]


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as srv:
        yield srv


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30.0) as c:
        yield c


# -- ok answers ---------------------------------------------------------------


def test_ollama_ok(server: LLMServer, client: httpx.Client) -> None:
    resp = post_chat(client, server, "ollama", model="qwen:0.5b")
    assert resp.status_code == 200
    data = resp.json()
    for key in ("model", "created_at", "total_duration", "prompt_eval_count", "eval_count"):
        assert key in data
    assert data["model"] == "qwen:0.5b"
    assert isinstance(data["prompt_eval_count"], int) and data["prompt_eval_count"] > 0
    assert isinstance(data["eval_count"], int) and data["eval_count"] > 0
    text, reason = content_of("ollama", resp)
    assert reason == "stop"
    gloss = json.loads(text)
    assert set(gloss) == set(GLOSS_KEYS)
    assert gloss["inputs"] == ["a", "b"]
    assert "pkg.mod.Klass.method" in gloss["summary"]
    assert "qwen:0.5b" in gloss["summary"]
    assert gloss["tags"] == ["test"]
    assert gloss["usage_snippet"] == "method(a, b)"

    (rec,) = server.requests
    assert rec.api == "ollama" and rec.path == "/api/chat"
    assert rec.model == "qwen:0.5b"
    assert rec.symbol == "pkg.mod.Klass.method"
    assert rec.body["format"] == SCHEMA
    assert server.symbols() == ["pkg.mod.Klass.method"]


def test_openai_ok(server: LLMServer, client: httpx.Client) -> None:
    resp = post_chat(client, server, "openai", model="local", symbol="m.f", signature="def f(x)")
    assert resp.status_code == 200
    data = resp.json()
    assert data["object"] == "chat.completion"
    assert data["model"] == "local"
    assert data["id"]
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    text, reason = content_of("openai", resp)
    assert reason == "stop"
    gloss = json.loads(text)
    assert set(gloss) == set(GLOSS_KEYS)
    assert gloss["inputs"] == ["x"]
    (rec,) = server.requests
    assert rec.api == "openai" and rec.path == "/v1/chat/completions"
    assert rec.symbol == "m.f"
    assert rec.headers["Authorization"] == "Bearer sk-test"
    assert rec.headers["authorization"] == "Bearer sk-test"


def test_ok_is_deterministic(server: LLMServer, client: httpx.Client) -> None:
    a = content_of("openai", post_chat(client, server, "openai"))[0]
    b = content_of("openai", post_chat(client, server, "openai"))[0]
    assert a == b


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ("def f(a, b: int = 2)", ["a", "b"]),
        ("def m(self, x, *args, y=(1, 2), **kw) -> dict[str, int]:", ["x", "args", "y", "kw"]),
        ("async def g(cls, /, p: Callable[[int, str], None], *, q='a,b')", ["p", "q"]),
        ("def h()", []),
        ("class C(Base, metaclass=M)", []),
        ("no parentheses", []),
    ],
)
def test_parse_param_names(signature: str, expected: list[str]) -> None:
    assert parse_param_names(signature) == expected


def test_prompt_without_signature_or_symbol(server: LLMServer, client: httpx.Client) -> None:
    body = chat_body("ollama", "tiny", "Explain this.")
    resp = client.post(f"{server.url}/api/chat", json=body)
    gloss = json.loads(content_of("ollama", resp)[0])
    assert set(gloss) == set(GLOSS_KEYS)
    assert gloss["inputs"] == []
    assert server.symbols() == [None]


# -- scripted failures ----------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_garbage(server: LLMServer, client: httpx.Client, api: str) -> None:
    server.set_behavior(Behavior(mode="garbage"))
    resp = post_chat(client, server, api)
    assert resp.status_code == 200
    text, _ = content_of(api, resp)
    assert text
    with pytest.raises(ValueError):
        json.loads(text)


@pytest.mark.parametrize("api", APIS)
def test_invalid_schema(server: LLMServer, client: httpx.Client, api: str) -> None:
    server.set_behavior(Behavior(mode="invalid_schema"))
    text, reason = content_of(api, post_chat(client, server, api))
    assert reason == "stop"
    obj = json.loads(text)
    assert isinstance(obj, dict)
    missing = set(GLOSS_KEYS) - set(obj)
    wrong_type = not isinstance(obj.get("summary"), str) or not isinstance(obj.get("inputs"), list)
    assert missing and wrong_type


@pytest.mark.parametrize("api", APIS)
def test_truncated(server: LLMServer, client: httpx.Client, api: str) -> None:
    server.set_behavior(Behavior(mode="truncated"))
    text, reason = content_of(api, post_chat(client, server, api))
    assert reason == "length"
    assert text.startswith("{")
    with pytest.raises(ValueError):
        json.loads(text)


@pytest.mark.parametrize("api", APIS)
def test_max_tokens_cuts_answer(server: LLMServer, client: httpx.Client, api: str) -> None:
    extra: dict[str, Any] = (
        {"options": {"num_predict": 10}} if api == "ollama" else {"max_tokens": 10}
    )
    text, reason = content_of(api, post_chat(client, server, api, **extra))
    assert reason == "length"
    assert len(text) <= 40


@pytest.mark.parametrize("api", APIS)
def test_filler(server: LLMServer, client: httpx.Client, api: str) -> None:
    server.set_behavior(Behavior(mode="filler"))
    text, reason = content_of(api, post_chat(client, server, api))
    assert reason == "stop"
    gloss = json.loads(text)
    assert set(gloss) == set(GLOSS_KEYS)
    assert gloss["summary"] == "N/A"
    for key in GLOSS_KEYS:
        value = gloss[key]
        assert value in ("N/A", "", [], ["N/A"])


@pytest.mark.parametrize("api", APIS)
def test_status_with_retry_after(server: LLMServer, client: httpx.Client, api: str) -> None:
    server.set_behavior(Behavior(mode="status", status=429, retry_after=2))
    resp = post_chat(client, server, api)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "2"
    err = resp.json()["error"]
    assert isinstance(err, str) if api == "ollama" else isinstance(err["message"], str)

    server.set_behavior(Behavior(mode="status", status=503, retry_after=0.5))
    resp = post_chat(client, server, api)
    assert resp.status_code == 503
    assert float(resp.headers["Retry-After"]) == 0.5

    server.set_behavior(Behavior(mode="status", status=500))
    resp = post_chat(client, server, api)
    assert resp.status_code == 500
    assert "Retry-After" not in resp.headers
    assert "error" in resp.json()


@pytest.mark.parametrize("api", APIS)
def test_drop(server: LLMServer, client: httpx.Client, api: str) -> None:
    server.set_behavior(Behavior(mode="drop"))
    with pytest.raises(httpx.RemoteProtocolError):
        post_chat(client, server, api)
    assert len(server.requests) == 1
    # The same client recovers on a fresh connection.
    server.reset()
    assert post_chat(client, server, api).status_code == 200


def test_model_missing_behavior(server: LLMServer, client: httpx.Client) -> None:
    server.set_behavior(Behavior(model_missing=True), model="llama3")
    resp = post_chat(client, server, "ollama", model="llama3")
    assert resp.status_code == 404
    assert resp.json() == {"error": 'model "llama3" not found, try pulling it first'}
    resp = post_chat(client, server, "openai", model="llama3")
    assert resp.status_code == 404
    assert resp.json() == {
        "error": {
            "message": "The model `llama3` does not exist",
            "type": "invalid_request_error",
            "code": "model_not_found",
        }
    }
    assert post_chat(client, server, "ollama", model="other").status_code == 200


def test_models_set(client: httpx.Client) -> None:
    with LLMServer(models={"a:1b", "b:7b"}) as srv:
        tags = client.get(f"{srv.url}/api/tags").json()
        assert [m["name"] for m in tags["models"]] == ["a:1b", "b:7b"]
        assert [m["model"] for m in tags["models"]] == ["a:1b", "b:7b"]
        listing = client.get(f"{srv.openai_url}/models").json()
        assert listing["object"] == "list"
        assert [(m["id"], m["object"]) for m in listing["data"]] == [
            ("a:1b", "model"),
            ("b:7b", "model"),
        ]
        assert post_chat(client, srv, "ollama", model="a:1b").status_code == 200
        resp = post_chat(client, srv, "ollama", model="c")
        assert resp.status_code == 404
        assert resp.json() == {"error": 'model "c" not found, try pulling it first'}
        resp = post_chat(client, srv, "openai", model="c")
        assert resp.status_code == 404
        assert resp.json()["error"]["code"] == "model_not_found"
        srv.models = None
        assert post_chat(client, srv, "openai", model="c").status_code == 200
        assert len(srv.probes) == 2


@pytest.mark.parametrize("api", APIS)
def test_fail_times_then_ok(server: LLMServer, client: httpx.Client, api: str) -> None:
    server.set_behavior(Behavior(mode="status", status=500, fail_times=2))
    codes = [post_chat(client, server, api).status_code for _ in range(4)]
    assert codes == [500, 500, 200, 200]
    # Setting it again restarts the count.
    server.set_behavior(Behavior(mode="garbage", fail_times=1))
    first = content_of(api, post_chat(client, server, api))[0]
    second = content_of(api, post_chat(client, server, api))[0]
    with pytest.raises(ValueError):
        json.loads(first)
    assert set(json.loads(second)) == set(GLOSS_KEYS)


def test_scoping(server: LLMServer, client: httpx.Client) -> None:
    server.set_behavior(Behavior(mode="status", status=500))
    server.set_behavior(Behavior(mode="status", status=501), model="m1")
    server.set_behavior(Behavior(mode="status", status=502), symbol="s.x")
    server.set_behavior(Behavior(mode="status", status=503), model="m1", symbol="s.x")
    server.set_behavior(Behavior(), model="good")

    def code(model: str, symbol: str) -> int:
        return post_chat(client, server, "openai", model=model, symbol=symbol).status_code

    assert code("m1", "s.x") == 503  # (model, symbol)
    assert code("m2", "s.x") == 502  # symbol
    assert code("good", "s.x") == 502  # symbol beats model
    assert code("m1", "s.y") == 501  # model
    assert code("good", "s.y") == 200  # model
    assert code("m2", "s.y") == 500  # default

    server.reset()
    assert server.requests == []
    assert code("m1", "s.x") == 200


# -- reject_json_schema ------------------------------------------------------------


def test_reject_json_schema(client: httpx.Client) -> None:
    with LLMServer(reject_json_schema=True) as srv:
        resp = post_chat(client, srv, "openai")
        assert resp.status_code == 500
        assert resp.json() == REJECT_JSON_SCHEMA_BODY
        assert "Input should be 'text' or 'json_object'" in resp.json()["error"]["message"]
        fmt = {"type": "json_object", "schema": SCHEMA}
        resp = post_chat(client, srv, "openai", response_format=fmt)
        assert resp.status_code == 200
        assert set(json.loads(content_of("openai", resp)[0])) == set(GLOSS_KEYS)
        # Ollama's format is unaffected.
        assert post_chat(client, srv, "ollama").status_code == 200


# -- protocol details ---------------------------------------------------------------


def test_probes_and_unknown_paths(server: LLMServer, client: httpx.Client) -> None:
    assert client.get(f"{server.url}/api/version").json()["version"]
    assert client.get(f"{server.url}/").text == "Ollama is running"
    assert client.get(f"{server.url}/api/tags").json() == {"models": []}
    assert client.get(f"{server.openai_url}/models").json() == {"object": "list", "data": []}
    assert client.get(f"{server.url}/nope").status_code == 404
    assert client.post(f"{server.url}/api/generate", json={}).status_code == 404
    assert client.post(f"{server.openai_url}/completions", json={}).status_code == 404
    assert client.get(f"{server.url}/api/chat").status_code == 405
    bad = client.post(f"{server.url}/api/chat", content=b"{not json")
    assert bad.status_code == 400
    assert server.requests == []
    # Models seen in requests are listed once every model exists (models=None).
    post_chat(client, server, "ollama", model="seen")
    assert [m["name"] for m in client.get(f"{server.url}/api/tags").json()["models"]] == ["seen"]


def test_keep_alive_reuses_connection(server: LLMServer) -> None:
    with httpx.Client(timeout=30.0, limits=httpx.Limits(max_connections=1)) as c:
        for _ in range(5):
            resp = post_chat(c, server, "ollama")
            assert resp.status_code == 200
            assert resp.http_version == "HTTP/1.1"
            assert resp.headers["Content-Length"] == str(len(resp.content))
    assert len(server.requests) == 5


def test_ollama_streams_unless_stream_false(server: LLMServer, client: httpx.Client) -> None:
    body = chat_body("ollama", "tiny", prompt())
    del body["stream"]
    resp = client.post(f"{server.url}/api/chat", json=body)
    assert resp.status_code == 200
    lines = [json.loads(line) for line in resp.text.splitlines() if line]
    assert len(lines) > 2
    assert all(not line["done"] for line in lines[:-1])
    assert lines[-1]["done"] is True and lines[-1]["done_reason"] == "stop"
    text = "".join(line["message"]["content"] for line in lines)
    assert set(json.loads(text)) == set(GLOSS_KEYS)


def test_openai_stream_true(server: LLMServer, client: httpx.Client) -> None:
    body = chat_body("openai", "tiny", prompt(), stream=True)
    resp = client.post(f"{server.openai_url}/chat/completions", json=body)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    events = [e.removeprefix("data: ") for e in resp.text.split("\n\n") if e]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert set(json.loads(text)) == set(GLOSS_KEYS)


# -- concurrency, capacity, waiting, stopping ----------------------------------------


def test_many_concurrent_connections(server: LLMServer) -> None:
    server.set_behavior(Behavior(delay_s=0.05))

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    with httpx.Client(timeout=30.0, limits=limits) as c:

        def one(i: int) -> int:
            return post_chat(c, server, APIS[i % 2], symbol=f"s{i}").status_code

        with ThreadPoolExecutor(max_workers=64) as pool:
            codes = list(pool.map(one, range(64)))
    assert codes == [200] * 64
    assert sorted(s or "" for s in server.symbols()) == sorted(f"s{i}" for i in range(64))
    assert server.max_in_flight <= 64
    assert server.in_flight == 0 and server.serving == 0


def test_capacity_limits_serving(client: httpx.Client) -> None:
    with LLMServer(capacity=2, latency_s=0.2) as srv:
        with httpx.Client(timeout=30.0, limits=httpx.Limits(max_connections=10)) as c:
            with ThreadPoolExecutor(max_workers=6) as pool:
                futures = [
                    pool.submit(post_chat, c, srv, "ollama", symbol=f"s{i}") for i in range(6)
                ]
                codes = [f.result().status_code for f in futures]
        assert codes == [200] * 6
        assert 1 <= srv.max_serving <= 2
        assert srv.max_in_flight >= srv.max_serving
        assert srv.serving == 0 and srv.in_flight == 0


def test_capacity_queues_waiting_requests(client: httpx.Client) -> None:
    """Deterministic: with two long requests holding both slots, others only wait."""
    srv = LLMServer(capacity=2).start()
    try:
        srv.set_behavior(Behavior(delay_s=60))
        results: list[BaseException | int] = []

        def one() -> None:
            try:
                with httpx.Client(timeout=60.0) as c:
                    results.append(post_chat(c, srv, "openai").status_code)
            except httpx.HTTPError as exc:
                results.append(exc)

        threads = [threading.Thread(target=one) for _ in range(4)]
        for t in threads:
            t.start()
        assert srv.wait_for(lambda s: s._serving == 2 and s._in_flight == 4, timeout=10)
        assert srv.max_serving == 2
        assert srv.max_in_flight == 4
    finally:
        srv.stop()
    for t in threads:
        t.join(timeout=10)
        assert not t.is_alive()
    # Stopping closed every sleeping or waiting request without an answer.
    assert len(results) == 4
    assert all(isinstance(r, httpx.HTTPError) for r in results)


def test_wait_for_requests(server: LLMServer) -> None:
    assert server.wait_for_requests(0, timeout=0.1)
    assert not server.wait_for_requests(1, timeout=0.1)

    def send() -> None:
        with httpx.Client(timeout=30.0) as c:
            for i in range(3):
                post_chat(c, server, "ollama", symbol=f"w{i}")

    t = threading.Thread(target=send)
    t.start()
    assert server.wait_for_requests(3, timeout=20)
    t.join(timeout=20)
    assert server.symbols() == ["w0", "w1", "w2"]


def test_stop_with_sleeping_request_returns_promptly() -> None:
    srv = LLMServer().start()
    srv.set_behavior(Behavior(delay_s=600))
    outcome: list[BaseException | int] = []

    def client_call() -> None:
        try:
            with httpx.Client(timeout=600.0) as c:
                outcome.append(post_chat(c, srv, "ollama").status_code)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=client_call)
    caller.start()
    assert srv.wait_for_requests(1)
    stopper = threading.Thread(target=srv.stop)
    stopper.start()
    stopper.join(timeout=30)
    assert not stopper.is_alive()
    caller.join(timeout=30)
    assert not caller.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.HTTPError)
    srv.stop()  # idempotent


def test_stop_closes_idle_keep_alive_connections() -> None:
    srv = LLMServer().start()
    with httpx.Client(timeout=30.0) as c:
        assert post_chat(c, srv, "ollama").status_code == 200  # connection stays open
        stopper = threading.Thread(target=srv.stop)
        stopper.start()
        stopper.join(timeout=30)
        assert not stopper.is_alive()


def test_unknown_mode_rejected(server: LLMServer) -> None:
    with pytest.raises(ValueError):
        server.set_behavior(Behavior(mode="bogus"))
