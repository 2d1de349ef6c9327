"""gloss/search over stdio: the real server, the test LLM server over HTTP, a real SQLite file.

The request an editor's own picker calls (VS Code's QuickPick, Neovim's
quickfix): items best first across every workspace folder, a function found
by what its gloss says, locations at the name in the encoding the client
negotiated, every FTS/SQL syntax character plain text, bad params named.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from bench.support.llm_server import LLMServer
from tests.conftest import Session, StartLsp, as_dict, gloss_toml, write_files

INVALID_PARAMS = -32602
ITEM_KEYS = {"name", "qualname", "kind", "location", "summary", "score", "matched"}
SYNTAX = ['"', "*", "(", ")", "NEAR", "NEAR(", "'", "%", "-", "AND", ":", "^", "a'b", '"x" OR',
          "name:sort", "sort*", "-sort", "^sort", "sort AND priority", "%_%", "\\", "\u0000x",
          "x OR y NOT z", "{sort}", "sort -priority"]  # fmt: skip

SOURCE = '''\
    def to_reorder(items):
        """Put them in order."""
        return sorted(items)


    def load_config(path):
        return {}


    class Ledger:
        def naïve_ünits(self):
            return 1


    def says_hi():
        return 2
    '''


async def search(session: Session, params: dict[str, Any]) -> list[dict[str, Any]]:
    answer = await session.client.protocol.send_request_async("gloss/search", params)
    items = as_dict(answer)
    assert isinstance(items, list)
    return items


async def refused(session: Session, params: Any) -> str:
    with pytest.raises(JsonRpcException) as caught:
        await session.client.protocol.send_request_async("gloss/search", params)
    assert caught.value.code == INVALID_PARAMS, caught.value
    return str(caught.value.message)


def workspace(root: Path, llm: LLMServer, files: dict[str, str]) -> Path:
    write_files(root, {**files, "gloss.toml": gloss_toml(llm.url)})
    return root


@pytest.fixture
def described(llm: LLMServer) -> LLMServer:
    llm.set_descriptions({"to_reorder": "Sorts the items by priority, highest first. Stable."})
    return llm


async def test_a_behaviour_query_finds_the_function_by_its_gloss(
    tmp_path: Path, described: LLMServer, start_lsp: StartLsp
) -> None:
    root = workspace(tmp_path / "ws", described, {"pkg/order.py": SOURCE})
    session = await start_lsp(root)
    await session.progress.wait_idle()
    items = await search(session, {"query": "sort by priority"})
    top = items[0]
    assert set(top) == ITEM_KEYS
    assert (top["name"], top["qualname"], top["kind"]) == ("to_reorder", "to_reorder", "function")
    assert top["matched"] == "gloss"
    assert top["summary"] == "Sorts the items by priority, highest first."
    assert top["location"] == {
        "uri": session.uri("pkg/order.py"),
        "range": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 14}},
    }
    assert isinstance(top["score"], float)
    # Names still come first where they match; workspace/symbol lists names before glosses.
    by_name = await search(session, {"query": "load_config"})
    assert (by_name[0]["name"], by_name[0]["matched"]) == ("load_config", "both")
    symbols = await session.symbols("sort")
    assert symbols and symbols[0].name == "to_reorder"
    # workspace/symbol: every name match before any span found only by its gloss (the
    # test model's glosses all say "does what its name says").
    listed = [s.name for s in await session.symbols("says")]
    assert listed[0] == "says_hi" and set(listed[1:]) >= {"Ledger", "load_config"}


async def test_syntax_characters_are_plain_text(
    tmp_path: Path, described: LLMServer, start_lsp: StartLsp
) -> None:
    root = workspace(tmp_path / "ws", described, {"pkg/order.py": SOURCE})
    session = await start_lsp(root)
    await session.progress.wait_idle()
    for query in SYNTAX:
        assert isinstance(await search(session, {"query": query}), list), query
        assert isinstance(await session.symbols(query), list), query
    quoted = await search(session, {"query": '"to_reorder"'})
    assert quoted[0]["name"] == "to_reorder"
    assert (await search(session, {"query": "sort AND priority"}))[0]["name"] == "to_reorder"


async def test_limit_defaults_to_50_and_bad_params_are_named(
    tmp_path: Path, llm: LLMServer, start_lsp: StartLsp
) -> None:
    many = "".join(f"def handler_{i:02d}(event):\n    return {i}\n\n\n" for i in range(60))
    root = workspace(tmp_path / "ws", llm, {"handlers.py": many})
    session = await start_lsp(root)
    await session.progress.wait_idle()
    assert len(await search(session, {"query": "handler"})) == 50
    assert len(await search(session, {"query": "handler", "limit": 5})) == 5
    assert len(await search(session, {"query": "handler", "limit": 200})) == 60
    assert await search(session, {"query": ""}) == []
    assert await search(session, {"query": "   "}) == []
    assert "at most 256" in await refused(session, {"query": "x" * 300})
    assert "at most 16" in await refused(session, {"query": "w " * 40})
    assert "limit" in await refused(session, {"query": "handler", "limit": 0})
    assert "limit" in await refused(session, {"query": "handler", "limit": "5"})
    assert "query" in await refused(session, {"query": 5})
    assert "query" in await refused(session, {"limit": 5})
    # The server is still alive and answering.
    assert (await search(session, {"query": "handler_07"}))[0]["name"] == "handler_07"


async def test_every_workspace_folder_is_searched(
    tmp_path: Path, llm: LLMServer, start_lsp: StartLsp
) -> None:
    one = workspace(tmp_path / "one", llm, {"a.py": "def parse_alpha(x):\n    return x\n"})
    two = workspace(tmp_path / "two", llm, {"b.py": "def parse_beta(x):\n    return x\n"})
    session = await start_lsp(one, folders=[one, two])
    await session.progress.wait_idle(root=one)
    await session.progress.wait_idle(root=two)
    items = await search(session, {"query": "parse"})
    uris = {item["name"]: item["location"]["uri"] for item in items}
    assert uris["parse_alpha"] == (one / "a.py").as_uri()
    assert uris["parse_beta"] == (two / "b.py").as_uri()
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True)


async def test_columns_are_in_the_encoding_the_client_negotiated(
    tmp_path: Path, llm: LLMServer, start_lsp: StartLsp
) -> None:
    root = workspace(tmp_path / "ws", llm, {"pkg/order.py": SOURCE})
    utf8 = types.ClientCapabilities(
        general=types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind.Utf8]
        )
    )
    session = await start_lsp(root, capabilities=utf8)
    await session.progress.wait_idle()
    line = textwrap.dedent(SOURCE).splitlines().index("    def naïve_ünits(self):")
    (item,) = [i for i in await search(session, {"query": "naïve_ünits"}) if i["kind"] == "method"]
    # "naïve_ünits" is 11 UTF-16 units and 13 UTF-8 bytes, after 8 ASCII characters.
    assert item["location"]["range"] == {
        "start": {"line": line, "character": 8},
        "end": {"line": line, "character": 21},
    }
    (symbol,) = [s for s in await session.symbols("naïve") if s.name == "naïve_ünits"]
    assert (symbol.location.range.start.character, symbol.location.range.end.character) == (8, 21)
