"""Which HTTP client a backend uses, and that both get the same answers from a real server.

`wire` (HTTP/1.1 on asyncio's transports) serves every backend reached without
a proxy; httpx serves one the environment routes through a proxy, and one a
test hands a transport. The transport-level faults (deadlines, body bounds,
lying lengths, dropped connections) are in test_transport_deadlines.py.
"""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from bench.support.llm_server import LLMServer
from enrich_core.config import BackendConfig
from enrich_core.llm.backend import BackendError, CompletionRequest, ErrorKind
from enrich_core.llm.http import OllamaBackend, OpenAIBackend
from enrich_core.records.gloss import GLOSS_SCHEMA


def _request() -> CompletionRequest:
    return CompletionRequest(
        model="m",
        messages=[
            {"role": "system", "content": "Answer with JSON."},
            {"role": "user", "content": "Symbol: load_config\nSignature: def load_config(path)"},
        ],
        schema=GLOSS_SCHEMA,
        max_tokens=400,
        temperature=0.0,
    )


def test_a_proxy_in_the_environment_sends_requests_through_httpx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = BackendConfig("b", "ollama", "http://10.1.2.3:11434")
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert OllamaBackend(config)._wire is not None
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    assert OllamaBackend(config)._wire is None  # httpx speaks to the proxy
    monkeypatch.setenv("NO_PROXY", "10.1.2.3")
    assert OllamaBackend(config)._wire is not None


@pytest.mark.parametrize("via", ["wire", "httpx"])
async def test_both_clients_get_the_same_gloss_and_send_the_same_body(
    llm: LLMServer, via: str
) -> None:
    transport = httpx.AsyncHTTPTransport() if via == "httpx" else None
    answers = []
    for backend in (
        OllamaBackend(BackendConfig("o", "ollama", llm.url), transport),
        OpenAIBackend(BackendConfig("a", "openai", llm.openai_url), transport),
    ):
        assert (backend._wire is None) == (via == "httpx")
        try:
            for _ in range(3):  # a kept-alive connection carries the next ones
                answers.append(json.loads((await backend.complete(_request())).text))
            assert await backend.list_models()
        finally:
            await backend.aclose()
    assert all(a == answers[0] for a in answers)
    assert answers[0]["inputs"][0].startswith("path")
    bodies = [r.body for r in llm.requests]
    assert bodies[0]["format"] == GLOSS_SCHEMA and bodies[0]["messages"] == _request().messages
    assert bodies[3]["response_format"]["json_schema"]["schema"] == GLOSS_SCHEMA


async def test_nothing_listening_is_refused_by_name() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    backend = OllamaBackend(BackendConfig("gone", "ollama", f"http://127.0.0.1:{port}"))
    try:
        with pytest.raises(BackendError) as caught:
            await backend.complete(_request())
    finally:
        await backend.aclose()
    assert caught.value.kind is ErrorKind.REFUSED
    assert "connection refused (is the server running?)" in str(caught.value)
    assert f"127.0.0.1:{port}" in str(caught.value)
