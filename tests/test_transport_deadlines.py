"""Hosts that misbehave at the HTTP level, over real sockets on 127.0.0.1.

A tiny raw HTTP/1.1 server (asyncio streams, keep-alive) answers each chat
request as a script says: a good Ollama answer, an HTTP status with headers,
a dropped connection, headers then a byte a second, a body far over the bound,
or a Content-Length that lies either way. The backend alone is tested for the
deadline and the body bound; a whole engine run (scan, workers, router,
breaker, store) for what a flaky, flapping, briefly absent, rate-limiting or
dead host ends with. Short timeouts and rests keep every case within seconds;
every run is bounded by `asyncio.timeout`, nothing asserts on speed.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bench.support.llm_server import ok_gloss
from enrich_core.config import BackendConfig, Config, ConfigError, IndexConfig, parse_config
from enrich_core.llm.backend import BackendError, CompletionRequest, ErrorKind
from enrich_core.llm.http import OllamaBackend
from enrich_core.llm.router import HOST_TROUBLE_TRIES, Router
from enrich_core.records.status import WorkspaceStatus
from enrich_core.run.engine import Engine
from enrich_core.source.indexer import Indexer
from enrich_core.source.parsed_file import ParsedFile
from tests.conftest import OpenEngine

RUN_LIMIT_S = 60.0
SPANS = 24
_SYMBOL = re.compile(r"^[ \t]*Symbol: (.*?)[ \t]*$", re.MULTILINE)
_SIGNATURE = re.compile(r"^[ \t]*Signature: (.*?)[ \t]*$", re.MULTILINE)


# --- the raw server --------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer. kind: ok | status | drop | loris | big | chunked_big |
    short_length | long_length."""

    kind: str = "ok"
    status: int = 500
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b'{"error": "scripted failure"}'


Script = Callable[[int, dict[str, Any]], Reply]


@dataclass
class RawHost:
    script: Script
    port: int = 0
    requests: list[float] = field(default_factory=list)  # arrival times (monotonic)
    bytes_sent: int = 0  # body bytes of "big" answers written before the client left
    loris_done: bool = False  # a slow-loris answer was sent to the end
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)  # a connection ended
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # a request came in

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                raw = await reader.readexactly(length) if length else b""
                self.requests.append(time.monotonic())
                self.arrived.set()
                body = json.loads(raw) if raw.startswith(b"{") else {}
                if not await self._answer(writer, self.script(len(self.requests), body), body):
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            return
        finally:
            writer.close()
            self.hung_up.set()

    async def _answer(
        self, writer: asyncio.StreamWriter, reply: Reply, body: dict[str, Any]
    ) -> bool:
        """Write one answer; False when the connection is to be closed."""
        if reply.kind == "drop":
            return False
        if reply.kind == "status":
            head = f"HTTP/1.1 {reply.status} Scripted\r\nContent-Length: {len(reply.body)}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in reply.headers)
            writer.write(head.encode() + b"\r\n" + reply.body)
            await writer.drain()
            return True
        payload = _ollama_answer(body)
        if reply.kind == "ok":
            writer.write(_head(len(payload)) + payload)
        elif reply.kind == "short_length":  # declares fewer bytes than it sends
            writer.write(_head(len(payload) - 40) + payload)
        elif reply.kind == "long_length":  # declares more than it sends, then hangs up
            writer.write(_head(len(payload) + 500) + payload)
            await writer.drain()
            return False
        elif reply.kind == "loris":  # headers at once, then a byte a second
            writer.write(_head(len(payload)))
            for i in range(len(payload)):
                writer.write(payload[i : i + 1])
                await writer.drain()
                await asyncio.sleep(1.0)
            self.loris_done = True
        elif reply.kind in ("big", "chunked_big"):  # 5 MB, as fast as the client reads
            total = 5 * 1024 * 1024
            chunked = reply.kind == "chunked_big"
            writer.write(_head(None) if chunked else _head(total))
            chunk = b" " * 65536
            while self.bytes_sent < total:
                writer.write(b"10000\r\n" + chunk + b"\r\n" if chunked else chunk)
                await writer.drain()
                self.bytes_sent += len(chunk)
            if chunked:
                writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


def _head(length: int | None) -> bytes:
    """A 200 head; without a length, the body is chunked."""
    framing = "Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}"
    return f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{framing}\r\n\r\n".encode()


def _ollama_answer(body: dict[str, Any]) -> bytes:
    prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
    symbol = _SYMBOL.search(prompt)
    signature = _SIGNATURE.search(prompt)
    gloss = ok_gloss(
        str(body.get("model", "m")),
        symbol.group(1) if symbol else None,
        signature.group(1) if signature else None,
    )
    answer = {
        "model": body.get("model"),
        "message": {"role": "assistant", "content": json.dumps(gloss)},
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 100,
        "eval_count": 50,
    }
    return json.dumps(answer).encode()


StartHost = Callable[[Script], Awaitable[RawHost]]


@pytest.fixture
async def raw_host() -> AsyncIterator[StartHost]:
    servers: list[asyncio.Server] = []

    async def start(script: Script) -> RawHost:
        host = RawHost(script)
        server = await asyncio.start_server(host.handle, "127.0.0.1", 0)
        servers.append(server)
        host.port = server.sockets[0].getsockname()[1]
        return host

    yield start
    for server in servers:
        server.close()


# --- helpers -----------------------------------------------------------------


def backend_config(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "flaky",
        "url": url,
        "max_concurrency": 2,
        "timeout_s": 2,
        "max_retries": 2,
        "retry_base_s": 0.01,
        "breaker_threshold": 3,
        "breaker_cooldown_s": 0.2,
        "breaker_probes": 3,
        **extra,
    }


def two_tier_config(url: str, **extra: Any) -> Config:
    return parse_config(
        {
            "backends": [backend_config(url, **extra)],
            "tiers": [
                {"name": "small", "model": "small-model", "backends": ["flaky"]},
                {"name": "large", "model": "large-model", "backends": ["flaky"]},
            ],
        }
    )


def write_spans(root: Path, n: int = SPANS) -> None:
    lines = [f"def step_{i}(value):\n    return value + {i}\n\n\n" for i in range(n)]
    (root / "steps.py").write_text("".join(lines))


async def index(engine: Engine) -> WorkspaceStatus:
    async with asyncio.timeout(RUN_LIMIT_S):  # a hang ends as a failure
        await engine.scan()
        await engine.wait_idle()
    return await engine.status()


async def run_index(tmp_path: Path, open_engine: OpenEngine, config: Config) -> WorkspaceStatus:
    write_spans(tmp_path)
    engine = await open_engine(tmp_path, config)
    return await index(engine)


def completion_request() -> CompletionRequest:
    return CompletionRequest(
        model="m",
        messages=[{"role": "user", "content": "Symbol: f\nSignature: def f(x)"}],
        schema={},
        max_tokens=100,
        temperature=0.0,
    )


def ok(_n: int, _body: dict[str, Any]) -> Reply:
    return Reply()


# --- the backend alone: deadline and body bound ------------------------------


async def test_slow_loris_ends_as_a_timeout_near_timeout_s(raw_host: StartHost) -> None:
    host = await raw_host(lambda n, body: Reply("loris"))
    backend = OllamaBackend(BackendConfig("loris", "ollama", host.url, timeout_s=1.0))
    try:
        async with asyncio.timeout(20):  # a per-read timeout would run ~300 s here
            with pytest.raises(BackendError) as caught:
                await backend.complete(completion_request())
    finally:
        await backend.aclose()
    assert caught.value.kind is ErrorKind.TIMEOUT
    assert "no complete answer within 1 s" in str(caught.value)
    assert not host.loris_done


@pytest.mark.parametrize("kind", ["big", "chunked_big"])
async def test_a_5_mb_body_is_rejected_without_reading_it(raw_host: StartHost, kind: str) -> None:
    host = await raw_host(lambda n, body: Reply(kind))
    config = BackendConfig("big", "ollama", host.url, timeout_s=10.0, max_response_bytes=65536)
    backend = OllamaBackend(config)
    try:
        async with asyncio.timeout(20):
            with pytest.raises(BackendError) as caught:
                await backend.complete(completion_request())
    finally:
        await backend.aclose()
    assert caught.value.kind is ErrorKind.BAD_RESPONSE
    assert "answer larger than 65536 bytes" in str(caught.value)
    async with asyncio.timeout(20):
        await host.hung_up.wait()
    # The client hung up: the server could not write the rest (socket buffers hold
    # a few hundred KB at most).
    assert host.bytes_sent < 5 * 1024 * 1024


async def test_a_connection_left_out_of_step_is_not_used_again(raw_host: StartHost) -> None:
    # The first answer declares 40 bytes fewer than it sends: those 40 would be
    # read as the start of the next answer if the connection went back to the pool.
    host = await raw_host(lambda n, body: Reply("short_length") if n == 1 else Reply())
    backend = OllamaBackend(BackendConfig("short", "ollama", host.url, max_concurrency=1))
    try:
        async with asyncio.timeout(20):
            with pytest.raises(BackendError) as caught:
                await backend.complete(completion_request())
            answer = await backend.complete(completion_request())
    finally:
        await backend.aclose()
    assert caught.value.kind is ErrorKind.BAD_RESPONSE and "not JSON" in str(caught.value)
    assert json.loads(answer.text)["summary"]
    assert len(host.requests) == 2


async def test_the_body_bound_is_a_checked_key() -> None:
    with pytest.raises(ConfigError, match=r"backends\[0\]\.max_response_bytes"):
        parse_config({"backends": [{"name": "b", "max_response_bytes": 10}]})
    with pytest.raises(ConfigError, match=r"backends\[0\]\.breaker_probes"):
        parse_config({"backends": [{"name": "b", "breaker_probes": 0}]})


# --- a whole run against a misbehaving host ----------------------------------


async def test_a_host_failing_30_percent_ends_with_every_span_glossed(
    tmp_path: Path, raw_host: StartHost, open_engine: OpenEngine
) -> None:
    # Three failures in a row out of every ten: the breaker opens each time.
    host = await raw_host(lambda n, body: Reply("status") if n % 10 in (1, 2, 3) else Reply())
    status = await run_index(tmp_path, open_engine, two_tier_config(host.url))
    assert status.counts.enriched == SPANS and status.counts.failed == 0
    opened = [t for t in status.backends["flaky"].history if t.state == "open"]
    assert opened, "the breaker never opened: the pattern did not trip it"


async def test_a_flapping_host_ends_with_every_span_glossed(
    tmp_path: Path, raw_host: StartHost, open_engine: OpenEngine
) -> None:
    host = await raw_host(lambda n, body: Reply("status", 503) if (n - 1) // 3 % 2 else Reply())
    status = await run_index(tmp_path, open_engine, two_tier_config(host.url))
    assert status.counts.enriched == SPANS and status.counts.failed == 0
    assert len(host.requests) < 3 * SPANS  # waiting is not retrying


async def test_a_brief_outage_is_waited_out(
    tmp_path: Path, raw_host: StartHost, open_engine: OpenEngine
) -> None:
    html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    outage = [Reply("status", 500), Reply("status", 502, body=html), Reply("drop")]

    def script(n: int, body: dict[str, Any]) -> Reply:
        return outage[(n - 1) % 3] if n <= 5 else Reply()

    status = await run_index(tmp_path, open_engine, two_tier_config((await raw_host(script)).url))
    assert status.counts.enriched == SPANS and status.counts.failed == 0


async def test_a_dead_host_fails_every_span_by_name_in_bounded_requests(
    tmp_path: Path, raw_host: StartHost, open_engine: OpenEngine
) -> None:
    host = await raw_host(lambda n, body: Reply("status", 500))
    status = await run_index(tmp_path, open_engine, two_tier_config(host.url))
    assert status.counts.failed == SPANS and status.counts.enriched == 0
    reasons = " ".join(r.reason for r in status.failure_reasons)
    assert f"backend 'flaky' ({host.url}) is down" in reasons
    assert "HTTP 500" in reasons and "3 probes failed" in reasons
    # threshold + probes, plus what was in flight when it opened: not a retry per span.
    assert len(host.requests) <= 3 + 3 + 2 * 3
    health = status.backends["flaky"].health
    assert health.state == "down" and health.healthy is False
    assert health.next_probe_s is not None


async def test_a_host_that_only_rate_limits_fails_as_rate_limited(
    tmp_path: Path, raw_host: StartHost, open_engine: OpenEngine
) -> None:
    host = await raw_host(lambda n, body: Reply("status", 429, headers=(("Retry-After", "0.1"),)))
    status = await run_index(tmp_path, open_engine, two_tier_config(host.url))
    assert status.counts.failed == SPANS
    reasons = " ".join(r.reason for r in status.failure_reasons)
    assert "rate limited" in reasons and "is down" in reasons
    assert len(host.requests) <= 3 + 3 + 2 * 3


async def test_retry_after_is_honoured(
    tmp_path: Path, raw_host: StartHost, open_engine: OpenEngine
) -> None:
    host = await raw_host(
        lambda n, body: (
            Reply("status", 429, headers=(("Retry-After", "1"),)) if n == 1 else Reply()
        ),
    )
    config = two_tier_config(host.url, max_concurrency=1)
    write_spans(tmp_path, 1)
    engine = await open_engine(tmp_path, config)
    status = await index(engine)
    assert status.counts.enriched == 1
    assert len(host.requests) == 2
    assert host.requests[1] - host.requests[0] >= 0.9  # it waited as told, not its own 10 ms


@pytest.mark.parametrize("kind", ["short_length", "long_length"])
async def test_a_lying_content_length_costs_few_requests(
    tmp_path: Path, raw_host: StartHost, open_engine: OpenEngine, kind: str
) -> None:
    host = await raw_host(lambda n, body: Reply(kind))
    status = await run_index(tmp_path, open_engine, two_tier_config(host.url))
    assert status.counts.failed == SPANS  # no answer was whole: none became a gloss
    reasons = " ".join(r.reason for r in status.failure_reasons)
    assert "is down" in reasons
    assert ("not JSON" if kind == "short_length" else "without a full answer") in reasons
    assert len(host.requests) <= 3 + 3 + 2 * 3  # was 142 for 24 spans


async def test_a_down_host_comes_back_with_a_good_probe(
    tmp_path: Path, raw_host: StartHost, open_engine: OpenEngine
) -> None:
    healthy = asyncio.Event()
    host = await raw_host(lambda n, body: Reply() if healthy.is_set() else Reply("status", 503))
    config = two_tier_config(host.url)
    write_spans(tmp_path, 4)
    engine = await open_engine(tmp_path, config)
    assert (await index(engine)).counts.failed == 4
    healthy.set()
    (tmp_path / "more.py").write_text("def more(x):\n    return x\n")
    async with asyncio.timeout(RUN_LIMIT_S):
        await engine.files_changed(["more.py"])
        await engine.wait_idle()
    status = await engine.status()
    info = await engine.hover("more.py", 0)
    assert info is not None and info.gloss is not None  # the due probe was this span
    assert status.backends["flaky"].health.state == "closed"
    states = [t.state for t in status.backends["flaky"].history]
    assert states[-1] == "closed" and "down" in states


async def test_failover_to_a_live_host_of_the_tier_is_immediate(
    tmp_path: Path, raw_host: StartHost, open_engine: OpenEngine
) -> None:
    dead = await raw_host(lambda n, body: Reply("status", 500))
    live = await raw_host(ok)
    config = parse_config(
        {
            "backends": [
                backend_config(dead.url, breaker_cooldown_s=600),
                {**backend_config(live.url), "name": "live"},
            ],
            "tiers": [{"name": "t", "model": "m", "backends": ["flaky", "live"]}],
        }
    )
    status = await run_index(tmp_path, open_engine, config)  # a 600 s rest is never waited
    assert status.counts.enriched == SPANS
    assert len(dead.requests) <= 3 + 2 * 3


async def test_gloss_index_against_a_dead_host_exits_3_naming_it(
    tmp_path: Path, raw_host: StartHost
) -> None:
    host = await raw_host(lambda n, body: Reply("status", 500))
    write_spans(tmp_path, 6)
    (tmp_path / "gloss.toml").write_text(
        "[[backends]]\n"
        + "".join(f"{k} = {json.dumps(v)}\n" for k, v in backend_config(host.url).items())
        + '[[tiers]]\nname = "small"\nmodel = "m"\nbackends = ["flaky"]\n'
    )
    gloss = Path(sys.executable).parent / "gloss"
    proc = await asyncio.create_subprocess_exec(
        str(gloss), "index", str(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(RUN_LIMIT_S):
        out, err = await proc.communicate()
    assert proc.returncode == 3, err.decode()
    text = out.decode()
    assert "0/6 spans glossed" in text and "6 failed" in text
    assert f"backend 'flaky' ({host.url}) is down" in text and "3 probes failed" in text
    assert f"backend flaky ({host.url}) is down, next probe " in text  # the live breaker
    assert " open: server error: HTTP 500" in text  # and its history


def tiers_on_two_hosts(small_url: str, large_url: str, **small: Any) -> Config:
    return parse_config(
        {
            "backends": [
                backend_config(small_url, **small),
                {**backend_config(large_url), "name": "big"},
            ],
            "tiers": [
                {"name": "small", "model": "small-model", "backends": ["flaky"]},
                {"name": "large", "model": "large-model", "backends": ["big"]},
            ],
        }
    )


async def test_a_resting_tier_is_waited_for_not_skipped(
    tmp_path: Path, raw_host: StartHost, open_engine: OpenEngine
) -> None:
    small = await raw_host(lambda n, body: Reply("status", 503) if n <= 3 else Reply())
    large = await raw_host(ok)
    # Every span has attempts to spare: only the rest stands between it and the small tier.
    status = await run_index(
        tmp_path, open_engine, tiers_on_two_hosts(small.url, large.url, max_retries=3)
    )
    assert status.counts.enriched == SPANS
    assert status.by_tier == {"small": SPANS}
    assert not large.requests  # a blip of the cheap host sent nothing to the dear one


async def test_a_down_tier_escalates_to_the_next(
    tmp_path: Path, raw_host: StartHost, open_engine: OpenEngine
) -> None:
    small = await raw_host(lambda n, body: Reply("status", 500))
    large = await raw_host(ok)
    status = await run_index(tmp_path, open_engine, tiers_on_two_hosts(small.url, large.url))
    assert status.counts.enriched == SPANS
    assert status.by_tier == {"large": SPANS}
    assert len(small.requests) <= 3 + 3 + 2 * 3


async def test_a_cancelled_probe_lets_a_waiting_span_probe(
    tmp_path: Path, raw_host: StartHost
) -> None:
    host = await raw_host(lambda n, body: Reply("loris") if n == 1 else Reply())
    config = parse_config(
        {
            "backends": [backend_config(host.url, timeout_s=30)],
            "tiers": [{"name": "t", "model": "m", "backends": ["flaky"]}],
        }
    )
    backend = OllamaBackend(config.backends[0])
    router = Router(config.tiers, {"flaky": backend})
    parsed = Indexer(tmp_path, IndexConfig()).parse_text("one.py", "def f(x):\n    return x\n")
    assert isinstance(parsed, ParsedFile)
    span = parsed.spans[0]
    for _ in range(3):
        router.breakers["flaky"].record_failure("server error: HTTP 500")  # resting 0.2 s
    try:
        async with asyncio.timeout(20):  # a probe left taken would make the second wait on
            first = asyncio.create_task(router.gloss(span))
            await host.arrived.wait()  # the first span's probe is out (and dribbling)
            assert router.breakers["flaky"].probing
            second = asyncio.create_task(router.gloss(span))
            await asyncio.sleep(0)
            first.cancel()
            result = await second
    finally:
        await backend.aclose()
    assert result.gloss is not None and result.attempts == 1
    assert len(host.requests) == 2


async def test_a_request_the_host_always_fails_costs_its_span_only_its_attempts(
    tmp_path: Path, raw_host: StartHost, open_engine: OpenEngine
) -> None:
    def poison(n: int, body: dict[str, Any]) -> Reply:
        prompt = json.dumps(body.get("messages"))
        return Reply("status", 500) if "Symbol: step_0\\n" in prompt else Reply()

    host = await raw_host(poison)
    status = await run_index(tmp_path, open_engine, two_tier_config(host.url))
    assert status.counts.enriched == SPANS - 1 and status.counts.failed == 1
    reasons = " ".join(r.reason for r in status.failure_reasons)
    # Both tiers were tried; once it alone is left, its failures in a row may also
    # get the host declared down (they look alike): either way the 500 is named.
    assert "small" in reasons and "large" in reasons and "HTTP 500" in reasons
    failed_requests = len(host.requests) - (SPANS - 1)
    # 3 attempts per tier when every failure is isolated; failures that come in a
    # row (nothing else left to answer) are the host's, bounded per tier by the cap.
    assert 2 * 3 <= failed_requests <= 2 * HOST_TROUBLE_TRIES * 3


async def test_a_retry_after_of_an_hour_fails_at_once_saying_so(
    tmp_path: Path, raw_host: StartHost, open_engine: OpenEngine
) -> None:
    host = await raw_host(lambda n, body: Reply("status", 429, headers=(("Retry-After", "3600"),)))
    status = await run_index(tmp_path, open_engine, two_tier_config(host.url))
    assert status.counts.failed == SPANS
    reasons = " ".join(r.reason for r in status.failure_reasons)
    assert "rate limited" in reasons and "it asks to wait 3600 s" in reasons
    assert len(host.requests) <= 3 + 2 * 2  # never retried: the breaker trips at once
