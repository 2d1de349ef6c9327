"""workspace/executeCommand: the user asks for a gloss again, or for a bigger model.

The commands (docs/client-protocol.md) take `[{"uri": ..., "line": N}]`
(0-based line) or `[{"uri": ...}]`, and answer `{"queued", "message"}`: a bad
argument gets a message that says what was expected, never an exception the
user cannot read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from server.lsp import GlossServer

REGLOSS = "gloss.server.regloss"
REGLOSS_FILE = "gloss.server.reglossFile"
ESCALATE = "gloss.server.escalate"
COMMANDS = (REGLOSS, REGLOSS_FILE, ESCALATE)


def setup(server: GlossServer) -> None:
    # pygls advertises registered commands in executeCommandProvider itself.
    for command in COMMANDS:
        server.command(command)(_handler(command))


def _handler(command: str) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def handle(ls: GlossServer, *arguments: Any) -> dict[str, Any]:
        return await execute(ls, command, list(arguments))

    return handle


async def execute(ls: GlossServer, command: str, arguments: list[Any]) -> dict[str, Any]:
    wants_line = command != REGLOSS_FILE
    target = _target(arguments, wants_line)
    if isinstance(target, str):
        return _answer(0, f"{command}: {target}")
    uri, line = target
    if not await ls.wait_ready():
        return _answer(0, "Gloss is still starting; try again in a moment")
    located = ls.locate(uri)
    if located is None:
        return _answer(0, f"{uri} is not in a workspace folder Gloss indexes")
    engine, rel = located
    queued, message = await engine.gloss_again(rel, line, escalate=command == ESCALATE)
    return _answer(queued, message)


def _target(arguments: Any, wants_line: bool) -> tuple[str, int | None] | str:
    """(uri, line) from `[{"uri": ..., "line": N}]`, or what is wrong with the arguments."""
    expected = '[{"uri": "...", "line": N}]' if wants_line else '[{"uri": "..."}]'
    if not isinstance(arguments, list) or len(arguments) != 1:
        return f"expected arguments {expected}"
    arg = arguments[0]
    if not isinstance(arg, dict) or not isinstance(arg.get("uri"), str):
        return f"expected arguments {expected}"
    if not wants_line:
        return arg["uri"], None
    line = arg.get("line")
    if not isinstance(line, int) or isinstance(line, bool) or line < 0:
        return f"expected a 0-based line number, got {line!r}"
    return arg["uri"], line


def _answer(queued: int, message: str) -> dict[str, Any]:
    return {"queued": queued, "message": message}
