"""End to end: `gloss serve` over stdio (pytest-lsp), a real test LLM server, a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from lsprotocol import types

from bench.support.llm_server import Behavior, LLMServer
from tests.conftest import (
    SAMPLE,
    SHUTDOWN_LIMIT_S,
    Session,
    StartLsp,
    as_dict,
    gloss_toml,
    write_files,
)
from tests.jsonrpc import frame, response_to, send

SHAPES = "pkg/shapes.py"
LINE_CIRCLE, LINE_INIT, LINE_AREA, LINE_LOAD, LINE_FETCH = 3, 6, 9, 13, 18


def markdown(hover: types.Hover | None) -> str:
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.kind == types.MarkupKind.Markdown
    return hover.contents.value


async def test_hover_shows_the_gloss_with_model_and_tier(
    workspace: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    session = await start_lsp(workspace)
    await session.progress.wait_idle()
    text = markdown(await session.hover(SHAPES, LINE_LOAD))
    assert text.startswith("load\\_config (test model small-model)")
    assert "**Inputs**" in text
    assert "gloss by small-model · tier small · fresh" in text
    # Every span was sent once, to the first tier.
    assert sorted(s or "" for s in llm.symbols()) == sorted(
        ["Circle", "Circle.__init__", "Circle.area", "load_config", "fetch_all"]
    )
    assert {r.model for r in llm.requests} == {"small-model"}


async def test_hover_urls_in_model_text_are_links_only_when_hover_links_is_set(
    tmp_path: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    """The test server names its model in every summary: a model named by a URL puts a
    bare URL in the gloss, which an editor's Markdown would make a link."""
    url_model = "https://models.example/small"
    hovers = {}
    for links in (False, True):
        root = tmp_path / f"links-{links}"
        toml = gloss_toml(llm.url).replace('model = "small-model"', f'model = "{url_model}"')
        toml += f"\n[hover]\nlinks = {str(links).lower()}\n"
        write_files(root, {**SAMPLE, "gloss.toml": toml})
        session = await start_lsp(root)
        await session.progress.wait_idle()
        hovers[links] = markdown(await session.hover(SHAPES, LINE_LOAD))
    assert url_model not in hovers[False]
    assert "https\\://models.example/small" in hovers[False]  # shown the same, not a link
    assert url_model in hovers[True]


async def test_hover_off_a_definition_header_or_outside_the_workspace_is_empty(
    workspace: Path, start_lsp: StartLsp
) -> None:
    session = await start_lsp(workspace)
    await session.progress.wait_idle()
    assert await session.hover(SHAPES, LINE_LOAD + 2) is None  # inside the body
    assert await session.hover(SHAPES, 9999) is None  # past the end
    assert await session.hover("pkg/missing.py", 1) is None
    outside = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri="file:///nowhere/x.py"),
        position=types.Position(line=0, character=0),
    )
    assert await session.client.text_document_hover_async(outside) is None
    # The server is still alive and answering.
    assert await session.hover(SHAPES, LINE_LOAD) is not None


async def test_workspace_symbol_by_prefix_and_substring_any_case(
    workspace: Path, start_lsp: StartLsp
) -> None:
    session = await start_lsp(workspace)
    await session.progress.wait_idle()

    # Name matches come first; spans whose gloss mentions the word may follow.
    circle = await session.symbols("circ")
    assert (circle[0].name, circle[0].kind) == ("Circle", types.SymbolKind.Class)
    loc = circle[0].location
    assert loc.uri == session.uri(SHAPES)
    assert (loc.range.start.line, loc.range.start.character) == (LINE_CIRCLE, 6)
    assert loc.range.end.character == 12

    area = await session.symbols("AREA")
    assert (area[0].name, area[0].kind, area[0].container_name) == (
        "area", types.SymbolKind.Method, "Circle"
    )  # fmt: skip
    config = await session.symbols("config")  # substring, not prefix
    assert (config[0].name, config[0].kind) == ("load_config", types.SymbolKind.Function)
    fetch = await session.symbols("fetch")
    assert fetch[0].kind == types.SymbolKind.Function
    assert await session.symbols("") == []
    assert await session.symbols("   ") == []
    assert await session.symbols("zzz_nothing") == []
    for odd in ("%", "_", '"', "*", "a'b", "\\", "NEAR(", "\u0000x"):
        assert isinstance(await session.symbols(odd), list)


async def test_saving_an_edit_reglosses_only_the_changed_spans(
    workspace: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    session = await start_lsp(workspace)
    await session.progress.wait_idle()
    before = len(llm.requests)

    path = workspace / SHAPES
    new_text = path.read_text().replace("3.14159 * self.radius**2", "math.pi * self.radius**2")
    path.write_text(new_text)
    uri = session.uri(SHAPES)
    session.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=new_text
            )
        )
    )
    session.client.text_document_did_save(
        types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri), text=new_text
        )
    )

    def area_reglossed(events: list[dict[str, Any]]) -> bool:
        return any((e.get("last") or {}).get("symbol") == "Circle.area" for e in events[5:])

    await session.progress.wait_for(area_reglossed)
    await session.progress.wait_idle()
    resent = [r.symbol for r in llm.requests[before:]]
    # The method's body changed; its class's outline (signatures) did not.
    assert resent == ["Circle.area"]
    assert "fresh" in markdown(await session.hover(SHAPES, LINE_CIRCLE))
    assert "fresh" in markdown(await session.hover(SHAPES, LINE_AREA))


async def test_a_pause_in_typing_reglosses_the_editor_s_text_without_a_save(
    workspace: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    (workspace / "gloss.toml").write_text(
        gloss_toml(llm.url, extra="[index]\nidle_pause_ms = 300\n")
    )
    session = await start_lsp(workspace)
    await session.progress.wait_idle()
    before = len(llm.requests)
    uri = session.uri(SHAPES)
    disk_text = (workspace / SHAPES).read_text()
    session.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=disk_text
            )
        )
    )
    # Three edits in a row, faster than the pause: only the last text is glossed.
    for version, name in enumerate(("typed_v1", "typed_v2", "typed_v3"), start=2):
        typed = disk_text + f"\n\ndef {name}(z):\n    return z\n"
        session.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=typed)],
            )
        )

    def typed_glossed(events: list[dict[str, Any]]) -> bool:
        return any((e.get("last") or {}).get("symbol") == "typed_v3" for e in events)

    await session.progress.wait_for(typed_glossed)
    await session.progress.wait_idle()
    assert [r.symbol for r in llm.requests[before:]] == ["typed_v3"]
    assert "typed_v3" not in (workspace / SHAPES).read_text()  # never saved
    line = typed.count("\n") - 2
    assert "fresh" in markdown(await session.hover(SHAPES, line))


async def test_two_workspace_folders_share_one_host_s_cap_and_both_get_glosses(
    tmp_path: Path, start_lsp: StartLsp
) -> None:
    with LLMServer(latency_s=0.01) as llm:
        roots = []
        for name, count in (("big", 30), ("small", 3)):
            root = tmp_path / name
            root.mkdir()
            (root / "gloss.toml").write_text(gloss_toml(llm.url, concurrency=1))
            body = "".join(f"def {name}_{i}(x):\n    return x + {i}\n\n\n" for i in range(count))
            (root / f"{name}.py").write_text(body)
            roots.append(root)
        session = await start_lsp(roots[0], folders=roots)
        for root in roots:
            await session.progress.wait_idle(root=root)
        hover = await session.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=(roots[1] / "small.py").as_uri()),
                position=types.Position(line=0, character=4),
            )
        )
        assert "fresh" in markdown(hover)
        assert len(llm.requests) == 33
        assert llm.max_in_flight == 1  # one host, one cap, whatever the number of folders
        small_at = [i for i, s in enumerate(llm.symbols()) if s and s.startswith("small_")]
        assert max(small_at) <= 9  # the folders took turns


async def test_a_broken_backend_gives_gloss_failed_and_no_summary(
    workspace: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    llm.set_behavior(Behavior(mode="status", status=500))
    session = await start_lsp(workspace)
    await session.progress.wait_idle()
    text = markdown(await session.hover(SHAPES, LINE_LOAD))
    assert "def load\\_config" not in text  # the signature is code, in a code block
    assert "```python\ndef load_config(path: str) -> dict\n```" in text
    assert "Read the YAML settings file." in text
    assert "gloss failed" in text
    assert "HTTP 500" in text
    assert "test model" not in text


async def test_garbage_from_the_first_tier_escalates_to_the_second(
    workspace: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    llm.set_behavior(Behavior(mode="garbage"), model="small-model")
    session = await start_lsp(workspace)
    await session.progress.wait_idle()
    text = markdown(await session.hover(SHAPES, LINE_LOAD))
    assert "tier large" in text
    assert "test model large-model" in text


async def test_bad_configuration_is_shown_and_the_server_survives(
    tmp_path: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    root = tmp_path / "bad"
    root.mkdir()
    (root / "a.py").write_text("def f():\n    pass\n")
    (root / "gloss.toml").write_text(gloss_toml(llm.url) + "\n[index]\nmax_file_bytes = 'x'\n")
    session = await start_lsp(root)
    result = await session.client.protocol.send_request_async("gloss/status", {})
    folders = result.folders if hasattr(result, "folders") else result["folders"]
    error = folders[0].error if hasattr(folders[0], "error") else folders[0]["error"]
    assert "index.max_file_bytes" in error
    assert await session.hover("a.py", 0) is None
    assert any("index.max_file_bytes" in m.message for m in session.client.messages)


async def test_settings_lua_sends_as_an_empty_list_count_as_none_and_a_non_table_is_named(
    workspace: Path, start_lsp: StartLsp
) -> None:
    # Neovim encodes an empty Lua table as [].
    session = await start_lsp(workspace, {"gloss": []})
    await session.progress.wait_idle()
    assert "fresh" in markdown(await session.hover(SHAPES, LINE_LOAD))

    bad = await start_lsp(workspace, {"gloss": "fast"})
    result = as_dict(await bad.client.protocol.send_request_async("gloss/status", {}))
    error = result["folders"][0]["error"]
    assert "gloss: expected a table of settings, got a str" in error


async def test_init_options_override_the_file(
    tmp_path: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    root = tmp_path / "opts"
    root.mkdir()
    (root / "m.py").write_text(textwrap.dedent(SAMPLE["pkg/shapes.py"]))
    # No gloss.toml: the defaults would point at a local Ollama; the editor's settings win.
    options = {
        "backends": [{"name": "t", "kind": "openai", "url": llm.openai_url, "max_retries": 0}],
        "tiers": [{"name": "only", "model": "m-openai", "backends": ["t"]}],
    }
    session = await start_lsp(root, {"gloss": options})
    await session.progress.wait_idle()
    assert "tier only" in markdown(await session.hover("m.py", LINE_LOAD))
    assert {r.api for r in llm.requests} == {"openai"}


def test_the_server_exits_when_the_editor_goes_away(workspace: Path) -> None:
    """No shutdown, no exit: stdin just closes. The process must end by itself."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    init: dict[str, Any] = {"processId": None, "rootUri": workspace.as_uri(), "capabilities": {}}
    proc.stdin.write(frame({"id": 1, "method": "initialize", "params": init}))
    proc.stdin.write(frame({"method": "initialized", "params": {}}))
    proc.stdin.flush()
    header = proc.stdout.readline()  # the initialize answer: the engine is starting
    assert header.startswith(b"Content-Length")
    proc.stdin.close()
    try:
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    # The writer drained and closed: the database is whole.
    conn = sqlite3.connect(workspace / ".gloss" / "index.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


async def test_backlog_progress_is_shown_only_to_clients_that_can_show_it(
    workspace: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    llm.set_behavior(Behavior(delay_s=0.05))  # slow enough that the bar has a life
    capable = types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True)
    )
    session = await start_lsp(workspace, capabilities=capable)
    await session.progress.wait_idle()

    def ended(reports: dict[Any, Any]) -> bool:
        return any(getattr(r, "kind", None) == "end" for rs in reports.values() for r in rs)

    async with asyncio.timeout(30):
        while not ended(session.client.progress_reports):
            await session.client.wait_for_notification("$/progress")
    (reports,) = session.client.progress_reports.values()
    kinds = [getattr(r, "kind", None) for r in reports]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].title == "Gloss"


async def test_no_progress_bar_without_the_capability(workspace: Path, start_lsp: StartLsp) -> None:
    session = await start_lsp(workspace)
    await session.progress.wait_idle()
    assert session.client.progress_reports == {}


async def wait_for_tier(session: Session, tier: str) -> None:
    """Until gloss/status lists `tier`: new settings restart the engines asynchronously."""

    async def tiers() -> dict[str, Any]:
        status = as_dict(await session.client.protocol.send_request_async("gloss/status", {}))
        return status["folders"][0].get("tiers", {})  # type: ignore[no-any-return]

    for _ in range(200):  # polled, bounded: no notification says "restarted"
        if tier in await tiers():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"tier {tier} never appeared in gloss/status: {await tiers()}")


async def test_gloss_status_answers_a_request_without_params(workspace: Path) -> None:
    # JSON-RPC lets `params` be left out, and VS Code's sendRequest("gloss/status")
    # does; pytest-lsp's client always sends it, so this test frames its own messages.
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--stdio",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with asyncio.timeout(60):
            init: dict[str, Any] = {
                "processId": None,
                "rootUri": workspace.as_uri(),
                "capabilities": {},
            }
            await send(server, {"id": 1, "method": "initialize", "params": init})
            await response_to(server, 1)
            await send(server, {"method": "initialized", "params": {}})
            await send(server, {"id": 2, "method": "gloss/status"})
            answer = await response_to(server, 2)
            await send(server, {"id": 3, "method": "shutdown"})
            await response_to(server, 3)
            await send(server, {"method": "exit"})
            await server.wait()
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
    assert "error" not in answer, answer
    assert answer["result"]["folders"][0]["root"] == str(workspace)


async def test_settings_resent_unchanged_keep_the_engines_and_changed_ones_apply(
    workspace: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    options = {
        "backends": [{"name": "t", "kind": "ollama", "url": llm.url, "max_retries": 0}],
        "tiers": [{"name": "only", "model": "m-one", "backends": ["t"]}],
    }
    llm.set_behavior(Behavior(delay_s=1.0), symbol="load_config")
    session = await start_lsp(workspace, {"gloss": options})
    assert await asyncio.to_thread(
        llm.wait_for, lambda s: any(r.symbol == "load_config" for r in s._requests), 20.0
    )  # its gloss is in flight now
    # Neovim sends its `settings` right after `initialized`; a restart here
    # would cancel the gloss in flight and ask for it again.
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"gloss": options})
    )

    def load_config_glossed(events: list[dict[str, Any]]) -> bool:
        return any((e.get("last") or {}).get("symbol") == "load_config" for e in events)

    await session.progress.wait_for(load_config_glossed)
    assert (await session.symbols("load_config"))[0].name == "load_config"  # still answering
    assert llm.symbols().count("load_config") == 1

    changed = {**options, "tiers": [{"name": "renamed", "model": "m-two", "backends": ["t"]}]}
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"gloss": changed})
    )
    await wait_for_tier(session, "renamed")


async def test_settings_changed_twice_at_once_restart_once_after_the_other(
    workspace: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    # Overlapping restarts used to start two engines for the folder and leak
    # one (its store never closed), so the server never exited.
    def settings(tier: str) -> dict[str, Any]:
        return {
            "gloss": {
                "backends": [{"name": "t", "kind": "ollama", "url": llm.url, "max_retries": 0}],
                "tiers": [{"name": tier, "model": f"m-{tier}", "backends": ["t"]}],
            }
        }

    llm.set_behavior(Behavior(delay_s=0.5), symbol="load_config")
    session = await start_lsp(workspace, settings("first"))
    for tier in ("second", "third"):
        session.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=settings(tier))
        )
    await wait_for_tier(session, "third")
    await asyncio.wait_for(session.client.shutdown_session(), SHUTDOWN_LIMIT_S)
