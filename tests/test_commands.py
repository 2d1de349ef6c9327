"""Over LSP: glossing again on the user's word, escalation, hover action links, and the
backends' health in gloss/progress (docs/client-protocol.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types

from bench.support.llm_server import Behavior, LLMServer
from tests.conftest import LARGE, SHUTDOWN_LIMIT_S, StartLsp, as_dict
from tests.test_lsp_e2e import LINE_AREA, LINE_LOAD, SHAPES, markdown

ACTION_LINKS = types.ClientCapabilities(experimental={"gloss": {"actionLinks": True}})


async def run(session: Any, command: str, *arguments: Any) -> dict[str, Any]:
    answer = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )
    assert isinstance(answer, dict)
    return answer


async def glossed_again(session: Any, symbol: str, after: int) -> dict[str, Any]:
    """The progress event that reports `symbol` glossed, among those after index `after`."""

    def seen(events: list[dict[str, Any]]) -> bool:
        return any((e.get("last") or {}).get("symbol") == symbol for e in events[after:])

    await session.progress.wait_for(seen)
    return next(
        e for e in session.progress.events[after:] if (e["last"] or {}).get("symbol") == symbol
    )


async def test_regloss_asks_the_model_again_and_keeps_the_gloss_fresh(
    workspace: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    session = await start_lsp(workspace)
    await session.progress.wait_idle()
    before, seen = len(llm.requests), len(session.progress.events)
    uri = session.uri(SHAPES)
    answer = await run(session, "gloss.server.regloss", {"uri": uri, "line": LINE_LOAD + 2})
    assert answer == {"queued": 1, "message": "load_config: queued to be glossed again"}
    event = await glossed_again(session, "load_config", seen)
    assert event["last"]["ok"] and event["last"]["tier"] == "small"
    assert [r.symbol for r in llm.requests[before:]] == ["load_config"]
    assert "fresh" in markdown(await session.hover(SHAPES, LINE_LOAD))


async def test_escalate_glosses_with_the_next_tier_and_stops_at_the_last(
    workspace: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    session = await start_lsp(workspace)
    await session.progress.wait_idle()
    before, seen = len(llm.requests), len(session.progress.events)
    target = {"uri": session.uri(SHAPES), "line": LINE_LOAD}
    answer = await run(session, "gloss.server.escalate", target)
    assert answer["queued"] == 1 and "by large" in answer["message"]
    await glossed_again(session, "load_config", seen)
    assert [(r.symbol, r.model) for r in llm.requests[before:]] == [("load_config", LARGE)]
    assert "tier large · fresh" in markdown(await session.hover(SHAPES, LINE_LOAD))
    again = await run(session, "gloss.server.escalate", target)
    assert again["queued"] == 0 and "last tier" in again["message"]


async def test_regloss_file_asks_again_for_every_span_of_it(
    workspace: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    session = await start_lsp(workspace)
    await session.progress.wait_idle()
    before, seen = len(llm.requests), len(session.progress.events)
    answer = await run(session, "gloss.server.reglossFile", {"uri": session.uri(SHAPES)})
    assert answer["queued"] == 5
    await session.progress.wait_for(lambda events: len(events) >= seen + 5)
    await session.progress.wait_idle()
    assert sorted(r.symbol or "" for r in llm.requests[before:]) == sorted(
        ["Circle", "Circle.__init__", "Circle.area", "load_config", "fetch_all"]
    )


async def test_a_failed_regloss_keeps_the_gloss_and_is_not_retried_on_a_timer(
    workspace: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    session = await start_lsp(workspace)
    await session.progress.wait_idle()
    llm.set_behavior(Behavior(mode="status", status=500))
    seen = len(session.progress.events)
    await run(session, "gloss.server.regloss", {"uri": session.uri(SHAPES), "line": LINE_LOAD})
    event = await glossed_again(session, "load_config", seen)
    assert not event["last"]["ok"] and "500" in event["last"]["reason"]
    assert "fresh" in markdown(await session.hover(SHAPES, LINE_LOAD))
    status = await session.client.protocol.send_request_async("gloss/status", {})
    folder = as_dict(status)["folders"][0]
    assert folder["queue"]["waiting_to_retry"] == 0 and folder["failed"] == 0


async def test_bad_arguments_get_a_readable_answer(workspace: Path, start_lsp: StartLsp) -> None:
    session = await start_lsp(workspace)
    uri = session.uri(SHAPES)
    for command, args in (
        ("gloss.server.regloss", []),
        ("gloss.server.regloss", [{"uri": uri}]),
        ("gloss.server.regloss", [{"uri": uri, "line": -1}]),
        ("gloss.server.reglossFile", ["not an object"]),
    ):
        answer = await run(session, command, *args)
        assert answer["queued"] == 0 and "expected" in answer["message"], (command, args)
    outside = await run(session, "gloss.server.regloss", {"uri": uri, "line": 1})
    assert outside["queued"] == 0 and "no function, method or class at" in outside["message"]


async def test_action_links_only_for_clients_that_run_them(
    workspace: Path, start_lsp: StartLsp, llm: LLMServer
) -> None:
    plain = await start_lsp(workspace)
    await plain.progress.wait_idle()
    assert "command:" not in markdown(await plain.hover(SHAPES, LINE_AREA))
    # One server writes a folder's store at a time: the second would only read it.
    await asyncio.wait_for(plain.client.shutdown_session(), SHUTDOWN_LIMIT_S)

    linked = await start_lsp(workspace, capabilities=ACTION_LINKS)
    await linked.progress.wait_idle()
    text = markdown(await linked.hover(SHAPES, LINE_AREA))
    links = text.rsplit("\n\n", 1)[1]
    assert links.startswith("[Regenerate](command:gloss.reglossSymbol?%5B%7B%22uri%22")
    assert "[Escalate to large](command:gloss.escalate?" in links
    assert text.count("command:") == 2  # nothing else in the hover is a link


async def test_progress_carries_each_backend_s_health(workspace: Path, start_lsp: StartLsp) -> None:
    session = await start_lsp(workspace)
    await session.progress.wait_idle()
    backends = session.progress.events[-1]["backends"]
    assert backends["test"]["state"] == "closed" and backends["test"]["healthy"] is True
    assert backends["test"]["url"].startswith("http://127.0.0.1:")
