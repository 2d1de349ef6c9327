"""Shared fixtures: the test LLM server, workspaces that point at it, and an LSP client.

Everything is real: HTTP on 127.0.0.1, a SQLite file in a temp directory,
`gloss serve` started over stdio by pytest-lsp. Waiting is on notifications
(`gloss/progress`) or conditions, never on sleeps.
"""

from __future__ import annotations

import asyncio
import sys
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from bench.support.llm_server import LLMServer
from enrich_core.config import Config, load_config
from enrich_core.run.engine import Engine

SMALL = "small-model"
LARGE = "large-model"
SHUTDOWN_LIMIT_S = 30.0  # shutdown + exit, then the process is gone


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    with LLMServer() as server:
        yield server


def gloss_toml(llm_url: str, *, kind: str = "ollama", concurrency: int = 2, extra: str = "") -> str:
    """Two tiers on one test backend; retries and the breaker's rests are short, so a
    failing host is waited out, or declared down, within a second or two."""
    url = llm_url if kind == "ollama" else llm_url + "/v1"
    return (
        textwrap.dedent(
            f"""
        [[backends]]
        name = "test"
        kind = "{kind}"
        url = "{url}"
        max_concurrency = {concurrency}
        timeout_s = 20
        max_retries = 1
        retry_base_s = 0.01
        breaker_cooldown_s = 0.2

        [[tiers]]
        name = "small"
        model = "{SMALL}"
        backends = ["test"]

        [[tiers]]
        name = "large"
        model = "{LARGE}"
        backends = ["test"]
        """
        )
        + extra
    )


SAMPLE = {
    "pkg/__init__.py": "",
    "pkg/shapes.py": '''\
        """Shapes."""


        class Circle:
            """A circle with a radius."""

            def __init__(self, radius: float) -> None:
                self.radius = radius

            def area(self) -> float:
                return 3.14159 * self.radius**2


        def load_config(path: str) -> dict:
            """Read the YAML settings file."""
            return {}


        async def fetch_all(urls: list[str], *, timeout: float = 5.0) -> list[bytes]:
            return []
        ''',
}


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


@pytest.fixture
def workspace(tmp_path: Path, llm: LLMServer) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    write_files(root, SAMPLE)
    (root / "gloss.toml").write_text(gloss_toml(llm.url))
    return root


class ProgressWatcher:
    """Collects gloss/progress notifications and lets a test wait for a condition on them."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()

    async def record(self, params: Any) -> None:
        data = params if isinstance(params, dict) else as_dict(params)
        async with self._changed:
            self.events.append(data)
            self._changed.notify_all()

    async def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], limit_s: float = 30.0
    ) -> None:
        async with asyncio.timeout(limit_s):
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self.events))

    async def wait_idle(self, limit_s: float = 30.0, root: Path | None = None) -> None:
        """Until the latest notification (of `root`'s engine, if given) says: scanned,
        nothing queued, nothing in flight."""

        def idle(events: list[dict[str, Any]]) -> bool:
            mine = [e for e in events if root is None or e["root"] == str(root)]
            if not mine:
                return False
            last = mine[-1]
            return bool(last["scanned"]) and last["queued"] == 0 and last["in_flight"] == 0

        await self.wait_for(idle, limit_s)


def as_dict(obj: Any) -> dict[str, Any]:
    if hasattr(obj, "_asdict"):
        return {k: as_dict(v) for k, v in obj._asdict().items()}
    if hasattr(obj, "__dict__"):
        return {k: as_dict(v) for k, v in vars(obj).items()}
    if isinstance(obj, list):
        return [as_dict(v) for v in obj]  # type: ignore[return-value]
    return obj  # type: ignore[no-any-return]


class Session:
    def __init__(self, client: LanguageClient, root: Path, progress: ProgressWatcher) -> None:
        self.client = client
        self.root = root
        self.progress = progress

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    async def hover(self, rel: str, line: int, character: int = 4) -> types.Hover | None:
        return await self.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=self.uri(rel)),
                position=types.Position(line=line, character=character),
            )
        )

    async def symbols(self, query: str) -> list[types.SymbolInformation]:
        result = await self.client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
        return list(result or [])  # type: ignore[arg-type]


class StartLsp(Protocol):
    """The `start_lsp` fixture: start `gloss serve` for a workspace, get a session."""

    async def __call__(
        self,
        root: Path,
        init_options: dict[str, Any] | None = None,
        capabilities: types.ClientCapabilities | None = None,
        folders: list[Path] | None = None,
    ) -> Session: ...


@pytest.fixture
async def start_lsp() -> AsyncIterator[StartLsp]:
    """Start `gloss serve` over stdio for a workspace; shut every session down after."""
    clients: list[LanguageClient] = []

    async def start(
        root: Path,
        init_options: dict[str, Any] | None = None,
        capabilities: types.ClientCapabilities | None = None,
        folders: list[Path] | None = None,
    ) -> Session:
        """`folders`: the workspace folders (default: just `root`)."""
        config = ClientServerConfig(server_command=[sys.executable, "-m", "server", "--stdio"])
        client = await config.start()
        assert isinstance(client, LanguageClient)
        clients.append(client)
        progress = ProgressWatcher()

        async def on_progress(params: Any) -> None:
            await progress.record(params)

        client.feature("gloss/progress")(on_progress)
        await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities or types.ClientCapabilities(),
                root_uri=root.as_uri(),
                workspace_folders=[
                    types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders or [root]
                ],
                initialization_options=init_options,
            )
        )
        return Session(client, root, progress)

    yield start
    for client in clients:
        process = getattr(client, "_server", None)
        if process is not None and process.returncode is not None:
            continue  # the test shut this one down itself
        # A server that does not exit after `exit` is a bug: fail in bounded time.
        await asyncio.wait_for(client.shutdown_session(), SHUTDOWN_LIMIT_S)
        await client.stop()


class OpenEngine(Protocol):
    """The `open_engine` fixture: start an Engine on a folder; stopped after the test."""

    async def __call__(self, root: Path, config: Config | None = None) -> Engine: ...


@pytest.fixture
async def open_engine() -> AsyncIterator[OpenEngine]:
    engines: list[Engine] = []

    async def make(root: Path, config: Config | None = None) -> Engine:
        engine = Engine(root, config or load_config(root))
        await engine.start()
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        await engine.stop()
