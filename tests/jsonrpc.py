"""Raw LSP framing over a server process's stdio, for tests that must send what
pytest-lsp's client cannot (a request without `params`, a closed stdin)."""

from __future__ import annotations

import asyncio
import json
from typing import Any


def frame(message: dict[str, Any]) -> bytes:
    """One message with its Content-Length header; "jsonrpc" is added."""
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def send(proc: asyncio.subprocess.Process, message: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(frame(message))
    await proc.stdin.drain()


async def receive(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    assert proc.stdout is not None
    length = None
    while True:
        line = await proc.stdout.readline()
        assert line, "the server closed stdout"
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    assert length is not None, "a message without Content-Length"
    message = json.loads(await proc.stdout.readexactly(length))
    assert isinstance(message, dict)
    return message


async def response_to(proc: asyncio.subprocess.Process, request_id: int) -> dict[str, Any]:
    """The response with this id; notifications and requests from the server are skipped."""
    while True:
        message = await receive(proc)
        if message.get("id") == request_id and "method" not in message:
            return message
