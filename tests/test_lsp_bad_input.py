"""Bad input on the LSP side: every request gets an answer (an LSP error or an empty
result, never silence) and the server lives on.

The real `gloss serve` on stdio, spoken to in raw frames (what pytest-lsp's client
cannot send: wrong types, junk bytes, wrong Content-Length), with the test LLM
server behind it. Every wait is bounded: a request left unanswered fails its test.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bench.support.llm_server import LLMServer
from enrich_core.store.reads import MAX_QUERY_CHARS, MAX_QUERY_TERMS, query_refusal
from server.main import MAX_FRAME_BYTES
from tests.conftest import SAMPLE, OpenEngine, gloss_toml, write_files
from tests.jsonrpc import frame, receive

SHAPES = "pkg/shapes.py"
LINE_LOAD = 13  # `def load_config` in tests.conftest.SAMPLE
ANSWER_LIMIT_S = 30.0
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602


class RawServer:
    """`gloss serve` over stdio; every message it sends is collected as it comes."""

    def __init__(self, proc: asyncio.subprocess.Process, root: Path) -> None:
        self.proc = proc
        self.root = root
        self.messages: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())
        self._next_id = 1000

    async def _read(self) -> None:
        while True:
            try:
                message = await receive(self.proc)
            except (AssertionError, asyncio.IncompleteReadError):
                return  # stdout closed: the process is ending
            async with self._arrived:
                self.messages.append(message)
                self._arrived.notify_all()

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    async def send_bytes(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_bytes(frame(message))

    async def request(self, method: str, params: Any) -> int:
        self._next_id += 1
        await self.send({"id": self._next_id, "method": method, "params": params})
        return self._next_id

    async def wait_for(self, found: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        def first() -> dict[str, Any] | None:
            return next((m for m in self.messages if found(m)), None)

        async with asyncio.timeout(ANSWER_LIMIT_S):
            async with self._arrived:
                await self._arrived.wait_for(lambda: first() is not None)
        message = first()
        assert message is not None
        return message

    async def answer(self, msg_id: int | str) -> dict[str, Any]:
        """The response to this request (no answer in bounded time fails the test)."""
        return await self.wait_for(lambda m: m.get("id") == msg_id and "method" not in m)

    def errors_without_id(self) -> list[dict[str, Any]]:
        return [m["error"] for m in self.messages if "error" in m and m.get("id") is None]

    async def wait_errors_without_id(self, count: int) -> list[dict[str, Any]]:
        async with asyncio.timeout(ANSWER_LIMIT_S):
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.errors_without_id()) >= count)
        return self.errors_without_id()

    def position_of(self, msg_id: int) -> int:
        return next(i for i, m in enumerate(self.messages) if m.get("id") == msg_id)

    def hover_params(self, rel: str, line: int, character: int = 4) -> dict[str, Any]:
        return {
            "textDocument": {"uri": self.uri(rel)},
            "position": {"line": line, "character": character},
        }

    async def hover(self, rel: str, line: int) -> dict[str, Any]:
        return await self.answer(
            await self.request("textDocument/hover", self.hover_params(rel, line))
        )

    def rss_kb(self, field: str = "VmRSS") -> int:
        """The server's resident memory now (VmRSS), or its peak so far (VmHWM)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise AssertionError(f"no {field} in /proc/<pid>/status")

    async def stop(self) -> None:
        """shutdown, exit, and the process is gone; killed if it is not, in bounded time."""
        try:
            if self.proc.returncode is None:
                async with asyncio.timeout(ANSWER_LIMIT_S):
                    await self.answer(await self.request("shutdown", None))
                    await self.send({"method": "exit"})
                    await self.proc.wait()
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
            self._reader.cancel()


StartRaw = Callable[[Path], Awaitable[RawServer]]


@pytest.fixture
async def start_raw() -> AsyncIterator[StartRaw]:
    servers: list[RawServer] = []

    async def start(root: Path) -> RawServer:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server", "--stdio",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        server = RawServer(proc, root)
        servers.append(server)
        init: dict[str, Any] = {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}
        await server.answer(await server.request("initialize", init))
        await server.send({"method": "initialized", "params": {}})
        return server

    yield start
    for server in servers:
        await server.stop()


async def glossed(server: RawServer, rel: str = SHAPES, line: int = LINE_LOAD) -> None:
    """Until the hover on `line` shows its gloss (by default load_config's: the engine is up)."""
    for _ in range(300):  # bounded: gloss/progress is not awaited here, hovers are cheap
        answer = await server.hover(rel, line)
        if "test model" in json.dumps(answer.get("result")):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{rel}:{line + 1} was never glossed")


def error_of(answer: dict[str, Any]) -> dict[str, Any]:
    assert "error" in answer, f"expected an error, got {answer}"
    error = answer["error"]
    assert isinstance(error, dict)
    return error


# --- invalid params, unknown methods, unknown documents --------------------------


async def test_a_request_with_invalid_params_is_answered_naming_the_field(
    workspace: Path, start_raw: StartRaw
) -> None:
    server = await start_raw(workspace)
    uri = server.uri(SHAPES)

    def hover(position: Any) -> dict[str, Any]:
        return {"textDocument": {"uri": uri}, "position": position}

    cases: list[tuple[str, Any, str]] = [
        ("textDocument/hover", hover({"line": -1, "character": 0}), "Position.line"),
        ("textDocument/hover", hover({"line": 2**31, "character": 0}), "2147483648"),
        ("textDocument/hover", hover({"line": 0, "character": -5}), "Position.character"),
        ("textDocument/hover", hover({"line": "ten", "character": 0}), "params.position.line"),
        ("textDocument/hover", {"textDocument": {}}, "params.textDocument.uri"),
        ("textDocument/hover", None, "params"),
        ("textDocument/hover", [1, 2], "params"),
        ("workspace/symbol", {}, "params.query"),
    ]
    ids = [await server.request(method, params) for method, params, _ in cases]
    for msg_id, (method, _, names) in zip(ids, cases, strict=True):
        error = error_of(await server.answer(msg_id))
        assert error["code"] == INVALID_PARAMS, (method, error)
        assert method in error["message"] and names in error["message"], error
    # The server lives: a good hover right after is answered with the gloss.
    await glossed(server)


async def test_unknown_methods_documents_and_uris_get_an_error_or_an_empty_answer(
    workspace: Path, start_raw: StartRaw
) -> None:
    server = await start_raw(workspace)
    unknown = await server.request("gloss/noSuchThing", {})
    error = error_of(await server.answer(unknown))
    assert error["code"] == METHOD_NOT_FOUND and "gloss/noSuchThing" in error["message"]

    def at_uri(uri: str) -> dict[str, Any]:
        return {**server.hover_params(SHAPES, 0), "textDocument": {"uri": uri}}

    empty_answers = [
        ("textDocument/hover", server.hover_params("no/such/file.py", 0)),
        ("textDocument/hover", at_uri("http://127.0.0.1/x.py")),
        ("textDocument/hover", at_uri("untitled:Untitled-1")),
        ("textDocument/hover", at_uri("not a uri")),
        ("textDocument/hover", server.hover_params(SHAPES, 2**31 - 1, 2**31 - 1)),
        ("workspace/symbol", {"query": ""}),
        # lsprotocol's converter reads anything as a string (str() of it): a
        # wrong type here is a query that finds nothing, not an error.
        ("workspace/symbol", {"query": {"a": 1}}),
    ]  # fmt: skip
    for method, params in empty_answers:
        answer = await server.answer(await server.request(method, params))
        assert "error" not in answer, (method, params, answer)
        assert answer["result"] in (None, []), (method, params, answer)

    command = await server.request("workspace/executeCommand", {"command": "nope", "arguments": []})
    assert "nope" in error_of(await server.answer(command))["message"]
    await glossed(server)


# --- junk frames ----------------------------------------------------------------


async def test_junk_frames_get_a_parse_error_or_invalid_request_and_the_server_goes_on(
    workspace: Path, start_raw: StartRaw
) -> None:
    server = await start_raw(workspace)
    junk = [
        b"Content-Length: 5\r\n\r\nhello",  # not JSON
        b"Content-Length: 4\r\n\r\n\xff\xfe\xfa\xfb",  # not UTF-8
        b"Content-Length: 2\r\n\r\n[]",  # JSON, but no message
        b"Content-Length: 4\r\n\r\nnull",
        b"Content-Length: 3000\r\n\r\n" + b"[" * 3000,  # deeper than the parser goes
    ]
    for data in junk:
        await server.send_bytes(data)
    errors = await server.wait_errors_without_id(len(junk))
    assert [e["code"] for e in errors] == [
        PARSE_ERROR,
        PARSE_ERROR,
        INVALID_REQUEST,
        INVALID_REQUEST,
        PARSE_ERROR,
    ], errors
    # Not JSON-RPC 2.0, with an id: answered under that id.
    body = json.dumps({"id": 77, "method": "workspace/symbol", "params": {"query": "x"}}).encode()
    await server.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert error_of(await server.answer(77))["code"] == INVALID_REQUEST
    # Header lines that are no headers, before a good frame, are skipped.
    await server.send_bytes(b"garbage\r\nX-Whatever: 1\r\n\r\n")
    await glossed(server)


async def test_a_wrong_content_length_loses_only_that_frame(
    workspace: Path, start_raw: StartRaw
) -> None:
    server = await start_raw(workspace)
    await glossed(server)

    def hover_frame(msg_id: int) -> bytes:
        params = server.hover_params(SHAPES, LINE_LOAD)
        return frame({"id": msg_id, "method": "textDocument/hover", "params": params})

    # Too short: the frame is cut (a parse error); the rest of its body comes
    # before the next header, which must still be found.
    short = hover_frame(1)
    body = short.partition(b"\r\n\r\n")[2]
    await server.send_bytes(b"Content-Length: %d\r\n\r\n" % (len(body) - 10) + body)
    await server.send_bytes(hover_frame(2) + hover_frame(3))
    for msg_id in (2, 3):
        assert "test model" in json.dumps((await server.answer(msg_id))["result"])
    assert [e["code"] for e in server.errors_without_id()] == [PARSE_ERROR]

    # Too long: the frame runs into the next ones, which must still be read.
    body = hover_frame(4).partition(b"\r\n\r\n")[2]
    await server.send_bytes(b"Content-Length: %d\r\n\r\n" % (len(body) + 30) + body)
    await server.send_bytes(hover_frame(5) + hover_frame(6))
    for msg_id in (4, 5, 6):
        assert "test model" in json.dumps((await server.answer(msg_id))["result"])


async def test_a_frame_over_the_size_bound_is_read_through_and_refused(
    workspace: Path, start_raw: StartRaw
) -> None:
    server = await start_raw(workspace)
    await glossed(server)
    before = server.rss_kb("VmHWM")
    size = MAX_FRAME_BYTES + 1
    await server.send_bytes(b"Content-Length: %d\r\n\r\n" % size)
    chunk = b" " * 2**20
    sent = 0
    while sent < size:
        part = chunk[: size - sent]
        await server.send_bytes(part)
        sent += len(part)
    (error,) = await server.wait_errors_without_id(1)
    assert error["code"] == INVALID_REQUEST and str(size) in error["message"]
    await glossed(server)
    # Read through in chunks, never held whole (that would be 64 MiB more).
    grown_kb = server.rss_kb("VmHWM") - before
    assert grown_kb < MAX_FRAME_BYTES // 1024 // 4, f"peak RSS grew {grown_kb} kB"


# --- after shutdown ---------------------------------------------------------------


async def test_requests_after_shutdown_get_invalid_request_and_exit_still_ends_it(
    workspace: Path, start_raw: StartRaw
) -> None:
    server = await start_raw(workspace)
    await glossed(server)
    shutdown = await server.request("shutdown", None)
    late = [
        await server.request("textDocument/hover", server.hover_params(SHAPES, LINE_LOAD)),
        await server.request("workspace/symbol", {"query": "load"}),
        await server.request("gloss/status", None),
    ]
    assert (await server.answer(shutdown))["result"] is None
    for msg_id in late:
        error = error_of(await server.answer(msg_id))
        assert error["code"] == INVALID_REQUEST and "shut down" in error["message"]
    await server.send({"method": "exit"})
    async with asyncio.timeout(ANSWER_LIMIT_S):
        assert await server.proc.wait() == 0


async def test_exit_ends_the_process_even_before_shutdown_has_finished(
    workspace: Path, start_raw: StartRaw
) -> None:
    """`exit` right behind `shutdown`, stdin left open: the engines still close
    and the process ends (their threads used to keep it alive for good)."""
    server = await start_raw(workspace)
    await glossed(server)
    await server.request("shutdown", None)
    await server.send({"method": "exit"})
    async with asyncio.timeout(ANSWER_LIMIT_S):
        assert await server.proc.wait() == 0


async def test_exit_without_shutdown_ends_with_code_1(workspace: Path, start_raw: StartRaw) -> None:
    server = await start_raw(workspace)
    await glossed(server)
    await server.send({"method": "exit"})
    async with asyncio.timeout(ANSWER_LIMIT_S):
        assert await server.proc.wait() == 1


async def test_a_second_initialize_is_refused_and_starts_nothing(
    workspace: Path, start_raw: StartRaw
) -> None:
    server = await start_raw(workspace)
    init: dict[str, Any] = {"processId": None, "rootUri": workspace.as_uri(), "capabilities": {}}
    again = await server.request("initialize", init)
    error = error_of(await server.answer(again))
    assert error["code"] == INVALID_REQUEST and "already" in error["message"]
    await glossed(server)
    await server.stop()  # a second set of engines would keep the process alive here
    assert server.proc.returncode == 0


async def test_a_request_with_an_id_of_the_wrong_type_is_answered_with_a_null_id(
    workspace: Path, start_raw: StartRaw
) -> None:
    server = await start_raw(workspace)
    params = server.hover_params(SHAPES, LINE_LOAD)
    await server.send({"id": {"not": "an id"}, "method": "textDocument/hover", "params": params})
    await server.send({"id": 5, "method": 42, "params": {}})
    errors = await server.wait_errors_without_id(2)
    assert [e["code"] for e in errors] == [INVALID_REQUEST, INVALID_REQUEST]
    await glossed(server)


async def test_changes_to_a_document_never_opened_show_one_message_not_one_per_change(
    workspace: Path, start_raw: StartRaw
) -> None:
    server = await start_raw(workspace)
    uri = server.uri("pkg/never_opened.py")
    for version in range(200):
        document = {"uri": uri, "version": version}
        params = {"textDocument": document, "contentChanges": [{"text": "x = 1"}]}
        await server.send({"method": "textDocument/didChange", "params": params})
    await glossed(server)  # every change before this hover has been handled
    shown = [m for m in server.messages if m.get("method") == "window/showMessage"]
    assert len([m for m in shown if "never_opened" in m["params"]["message"]]) == 1, shown


# --- bounded queries --------------------------------------------------------------


def test_query_bounds_name_what_is_too_much() -> None:
    assert query_refusal("load_config") is None
    assert query_refusal("parse yaml settings file") is None
    assert query_refusal("  " + "x" * MAX_QUERY_CHARS + "  ") is None
    too_long = query_refusal("x" * (MAX_QUERY_CHARS + 1))
    assert too_long is not None and str(MAX_QUERY_CHARS + 1) in too_long
    words = " ".join(["ab"] * (MAX_QUERY_TERMS + 1))
    too_many = query_refusal(words)
    assert too_many is not None and f"{MAX_QUERY_TERMS + 1} words" in too_many
    # Terms as the index counts them: punctuation separates words too.
    assert query_refusal(".".join(["a"] * (MAX_QUERY_TERMS + 1))) is not None


async def test_the_store_finds_nothing_for_a_query_beyond_the_bounds(
    workspace: Path, open_engine: OpenEngine
) -> None:
    engine = await open_engine(workspace)
    await engine.scan()
    assert [h.span.name for h in await engine.search("load_config")] == ["load_config"]
    assert await engine.search("load_config " * 100_000) == []


async def test_a_1_mb_symbol_query_is_refused_and_a_hover_after_it_is_answered(
    workspace: Path, start_raw: StartRaw
) -> None:
    server = await start_raw(workspace)
    await glossed(server)
    query = " ".join(f"word{i}" for i in range(200_000))[: 2**20]
    big = await server.request("workspace/symbol", {"query": query})
    hover = await server.request("textDocument/hover", server.hover_params(SHAPES, LINE_LOAD))
    error = error_of(await server.answer(big))
    assert error["code"] == INVALID_PARAMS
    assert f"{len(query.strip())} characters" in error["message"]
    assert f"at most {MAX_QUERY_CHARS}" in error["message"]
    assert "test model" in json.dumps((await server.answer(hover))["result"])
    # The query did not hold the hover up: refused before the hover was answered.
    assert server.position_of(big) < server.position_of(hover)
    # Words of a query within the bounds still find what they should.
    found = await server.answer(await server.request("workspace/symbol", {"query": "load"}))
    assert "load_config" in [s["name"] for s in found["result"]]


# --- a flood of changes -------------------------------------------------------------

FLOOD_CHANGES = 10_000
HOVER_EVERY = 1_000


async def flood(server: RawServer, text: str, changes: int) -> None:
    """`changes` didChange of the whole text as fast as the pipe takes them, and a
    hover every HOVER_EVERY that must be answered (with the gloss) while it goes on."""
    uri = server.uri(SHAPES)
    for version in range(2, changes + 2):
        document = {"uri": uri, "version": version}
        change = {"text": f"{text}\n# edit {version}\n"}
        params = {"textDocument": document, "contentChanges": [change]}
        await server.send({"method": "textDocument/didChange", "params": params})
        if version % HOVER_EVERY == 0:
            answer = await server.hover(SHAPES, LINE_LOAD)
            assert "test model" in json.dumps(answer["result"]), answer


async def open_document(server: RawServer, text: str) -> None:
    item = {"uri": server.uri(SHAPES), "languageId": "python", "version": 1, "text": text}
    await server.send({"method": "textDocument/didOpen", "params": {"textDocument": item}})


async def test_a_flood_of_changes_leaves_memory_bounded_and_hovers_answered(
    workspace: Path, start_raw: StartRaw
) -> None:
    server = await start_raw(workspace)
    await glossed(server)
    text = (workspace / SHAPES).read_text()
    await open_document(server, text)
    await flood(server, text, 1_000)  # warm: first-use allocations are not growth
    before = server.rss_kb()
    await flood(server, text, FLOOD_CHANGES)
    await server.hover(SHAPES, LINE_LOAD)  # every change before it has been handled
    grown_kb = server.rss_kb() - before
    # pygls kept a future per didChange for good: +20 MB per 10,000 (measured).
    assert grown_kb < 8_000, f"RSS grew {grown_kb} kB over {FLOOD_CHANGES} changes"


async def test_pauses_in_a_flood_send_one_buffer_at_a_time(
    tmp_path: Path, llm: LLMServer, start_raw: StartRaw
) -> None:
    """A pause after nearly every change (idle_pause_ms = 1) on a big buffer: each
    pause used to start its own parse and store of a text version, without bound."""
    root = tmp_path / "ws"
    functions = "".join(f"\n\ndef extra_{i}(a, b):\n    return a + b * {i}\n" for i in range(1500))
    text = textwrap.dedent(SAMPLE[SHAPES]) + functions
    write_files(root, {"pkg/__init__.py": "", SHAPES: text})
    (root / "gloss.toml").write_text(gloss_toml(llm.url, extra="\n[index]\nidle_pause_ms = 1\n"))
    server = await start_raw(root)
    await glossed(server)
    await open_document(server, text)
    await flood(server, text, 200)
    before = server.rss_kb()
    await flood(server, text, 2_000)
    await server.hover(SHAPES, LINE_LOAD)
    grown_kb = server.rss_kb() - before
    assert grown_kb < 60_000, f"RSS grew {grown_kb} kB over 2,000 changes"


# --- a document opened through a link out of the workspace ---------------------------


async def test_a_document_linked_from_outside_the_workspace_is_never_sent_and_the_hover_says_so(
    workspace: Path, tmp_path: Path, llm: LLMServer, start_raw: StartRaw
) -> None:
    outside = tmp_path / "elsewhere" / "private.py"
    outside.parent.mkdir()
    secret = "def outside_only_function(token):\n    return token\n"
    outside.write_text(secret)
    (workspace / "pkg" / "linked.py").symlink_to(outside)
    server = await start_raw(workspace)
    await glossed(server)

    linked = server.uri("pkg/linked.py")
    item = {"uri": linked, "languageId": "python", "version": 1, "text": secret}
    await server.send({"method": "textDocument/didOpen", "params": {"textDocument": item}})
    save = {"textDocument": {"uri": linked}, "text": secret}
    await server.send({"method": "textDocument/didSave", "params": save})
    # A save of the workspace's own file after it: once its new function is
    # glossed, the linked file's save has long been handled.
    own = (workspace / SHAPES).read_text() + "\n\ndef added_after(x):\n    return x\n"
    (workspace / SHAPES).write_text(own)
    added_line = own.splitlines().index("def added_after(x):")
    item = {"uri": server.uri(SHAPES), "languageId": "python", "version": 1, "text": own}
    await server.send({"method": "textDocument/didOpen", "params": {"textDocument": item}})
    save = {"textDocument": {"uri": server.uri(SHAPES)}, "text": own}
    await server.send({"method": "textDocument/didSave", "params": save})
    await glossed(server, SHAPES, added_line)

    hover = (await server.hover("pkg/linked.py", 0))["result"]
    assert hover is not None
    text = hover["contents"]["value"]
    assert "Not glossed" in text and "outside the workspace" in text, text
    assert str(outside) in text.replace("\\", ""), text  # Markdown escapes aside
    sent = [json.dumps(r.body) for r in llm.requests]
    assert "added_after" in "".join(sent)
    assert not any("outside_only_function" in body for body in sent)
