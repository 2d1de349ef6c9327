"""Two editor windows on one folder: two real `gloss serve` processes, one store.

One writes and glosses, the other reads what it writes and says who writes;
when the writer goes, the other takes over. The test LLM server counts chat
requests per symbol: no symbol is sent to a model twice by the two. And the
server's side of the store cases: a damaged store is moved aside and told, a
store it must not touch is named in a message and in gloss/status, and the
server lives on.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.support.llm_server import LLMServer
from tests.conftest import Session, StartLsp, as_dict, gloss_toml
from tests.store_mounts import read_only_view

GLOSS = str(Path(sys.executable).parent / "gloss")
FILES = 3
PER_FILE = 10
LIMIT_S = 60.0


def make_workspace(root: Path, llm: LLMServer) -> list[str]:
    root.mkdir()
    (root / "gloss.toml").write_text(gloss_toml(llm.url, concurrency=2))
    names = []
    for f in range(FILES):
        body = []
        for i in range(PER_FILE):
            name = f"fn_{f}_{i:02d}"
            names.append(name)
            body.append(f"def {name}(x):\n    return x + {i}\n\n\n")
        (root / f"m{f}.py").write_text("".join(body))
    return names


async def glossed_server(root: Path, llm: LLMServer, start_lsp: StartLsp) -> Session:
    """A server on a new workspace at `root`, once it has glossed all of it."""
    make_workspace(root, llm)
    session = await start_lsp(root)
    await session.progress.wait_idle(LIMIT_S)
    return session


def assert_each_asked_once(llm: LLMServer, names: list[str]) -> None:
    asked = Counter(r.symbol for r in llm.requests)
    assert set(asked) == set(names) and max(asked.values()) == 1, asked


def store_of(root: Path) -> Path:
    return root / ".gloss" / "index.db"


async def status_of(session: Session) -> dict[str, Any]:
    result = as_dict(await session.client.protocol.send_request_async("gloss/status", {}))
    folder: dict[str, Any] = result["folders"][0]
    return folder


def process_of(session: Session) -> asyncio.subprocess.Process:
    process = session.client._server
    assert process is not None
    return process


def pid_of(session: Session) -> int:
    return int(process_of(session).pid)


async def run_gloss(*args: str) -> subprocess.CompletedProcess[str]:
    """The `gloss` command, off the loop (the LSP client's reads go on meanwhile)."""
    return await asyncio.to_thread(
        subprocess.run, [GLOSS, *args], capture_output=True, text=True, timeout=LIMIT_S
    )


def hover_text(hover: Any) -> str:
    return str(hover.contents.value) if hover is not None else ""


def more_than(count: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda events: len(events) > count


async def until_glossed(session: Session, name: str, line: int, rel: str) -> str:
    """The hover of `name` once it shows a gloss (waits on the server's progress)."""
    async with asyncio.timeout(LIMIT_S):
        while True:
            count = len(session.progress.events)
            text = hover_text(await session.hover(rel, line))
            if "small-model" in text and name in text:
                return text
            await session.progress.wait_for(more_than(count), LIMIT_S)


async def test_two_servers_on_one_folder_send_no_span_twice_and_the_second_takes_over(
    tmp_path: Path, start_lsp: StartLsp
) -> None:
    with LLMServer(capacity=2, latency_s=0.02) as llm:
        root = tmp_path / "ws"
        names = make_workspace(root, llm)
        # Two windows opened together: both start at once and race for the store.
        one, two = await asyncio.gather(start_lsp(root), start_lsp(root))
        statuses = [await status_of(one), await status_of(two)]
        modes = sorted(s["store"]["mode"] for s in statuses)
        assert modes == ["reading", "writing"], statuses
        writer, reader = (one, two) if statuses[0]["store"]["mode"] == "writing" else (two, one)
        reader_status = statuses[1] if writer is one else statuses[0]
        assert reader_status["store"]["writer_pid"] == pid_of(writer)
        assert any(
            f"pid {pid_of(writer)}" in m.message and "is writing" in m.message
            for m in reader.client.messages
        )

        await writer.progress.wait_idle(LIMIT_S)
        assert_each_asked_once(llm, names)
        # The reader shows what the writer wrote.
        assert "small-model" in hover_text(await reader.hover("m1.py", 0))
        assert not reader.progress.events  # it glossed nothing

        # The writer's window closes: the reader takes the store over, and glosses
        # a function added on disk once, and nothing already glossed again.
        await asyncio.wait_for(writer.client.shutdown_session(), LIMIT_S)
        await reader.progress.wait_idle(LIMIT_S)
        assert (await status_of(reader))["store"]["mode"] == "writing"
        with (root / "m0.py").open("a") as f:
            f.write("def added_later(x):\n    return x\n")
        await until_glossed(reader, "added_later", PER_FILE * 4, "m0.py")
        asked = Counter(r.symbol for r in llm.requests)
        assert asked["added_later"] == 1 and max(asked.values()) == 1, asked


async def test_gloss_index_while_a_server_writes_names_it_and_exits_3(
    tmp_path: Path, start_lsp: StartLsp
) -> None:
    with LLMServer() as llm:
        root = tmp_path / "ws"
        session = await glossed_server(root, llm, start_lsp)
        before = len(llm.requests)
        done = await run_gloss("index", str(root))
        assert done.returncode == 3, done.stdout + done.stderr
        assert f"gloss serve (pid {pid_of(session)})" in done.stderr
        assert "Traceback" not in done.stderr
        # Reading commands read what the server wrote, and say who writes it.
        status = await run_gloss("status", str(root))
        assert status.returncode == 0, status.stderr
        assert f"30 spans in {FILES} files: 30 glossed, 0 pending, 0 failed" in status.stdout
        assert f"pid {pid_of(session)}" in status.stderr
        assert len(llm.requests) == before


async def test_a_damaged_store_is_moved_aside_by_the_server_which_says_so(
    tmp_path: Path, start_lsp: StartLsp
) -> None:
    with LLMServer() as llm:
        root = tmp_path / "ws"
        make_workspace(root, llm)
        db = store_of(root)
        db.parent.mkdir()
        db.write_bytes(b"not a database, just text someone saved here\n" * 100)
        session = await start_lsp(root)
        await session.progress.wait_idle(LIMIT_S)
        moved = [m.message for m in session.client.messages if "moved it to" in m.message]
        assert moved and str(db) in moved[0] and "asked of the models again" in moved[0]
        assert "small-model" in hover_text(await session.hover("m2.py", 0))
        status = await status_of(session)
        assert status["store"]["mode"] == "writing" and status["store"]["notices"]
        assert list(db.parent.glob("index.db.damaged-*"))


async def test_a_store_the_server_must_not_touch_is_named_and_the_server_lives(
    tmp_path: Path, start_lsp: StartLsp
) -> None:
    with LLMServer() as llm:
        root = tmp_path / "ws"
        make_workspace(root, llm)
        db = store_of(root)
        db.mkdir(parents=True)
        session = await start_lsp(root)
        status = await status_of(session)
        assert str(db) in status["error"] and "directory" in status["error"]
        assert any(str(db) in m.message for m in session.client.messages)
        assert await session.hover("m0.py", 0) is None  # answered, empty: nothing to show
        assert db.is_dir() and not llm.requests


async def test_two_gloss_index_runs_take_turns_and_send_no_span_twice(tmp_path: Path) -> None:
    with LLMServer(capacity=1, latency_s=0.05) as llm:
        root = tmp_path / "ws"
        names = make_workspace(root, llm)
        first = await asyncio.create_subprocess_exec(
            GLOSS, "index", str(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            # The second starts once the first is glossing (it holds the store).
            assert await asyncio.to_thread(llm.wait_for_requests, 1, timeout=LIMIT_S)
            second = await run_gloss("index", str(root))
            out, err = await asyncio.wait_for(first.communicate(), LIMIT_S)
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()
        assert first.returncode == 0, out + err
        assert second.returncode == 0, second.stdout + second.stderr
        assert f"waiting for gloss index (pid {first.pid})" in second.stderr
        assert "0 spans to gloss" in second.stderr  # the first had glossed them all
        assert_each_asked_once(llm, names)


async def test_the_server_answers_hovers_from_a_read_only_store(
    tmp_path: Path, start_lsp: StartLsp
) -> None:
    with LLMServer() as llm:
        source = tmp_path / "ws"
        make_workspace(source, llm)
        done = await run_gloss("index", str(source))
        assert done.returncode == 0, done.stdout + done.stderr
        with read_only_view(source, tmp_path / "ro") as root:
            session = await start_lsp(root)
            assert "small-model" in hover_text(await session.hover("m1.py", 4))
            status = await status_of(session)
            assert status["store"]["mode"] == "read-only" and status["enriched"] == 30
            db = store_of(root)
            assert any(
                str(db) in m.message and "read-only" in m.message for m in session.client.messages
            )
            await asyncio.wait_for(session.client.shutdown_session(), LIMIT_S)
        assert len(llm.requests) == 30


async def test_a_reading_server_waiting_for_the_store_exits_at_once_when_closed(
    tmp_path: Path, start_lsp: StartLsp
) -> None:
    with LLMServer() as llm:
        root = tmp_path / "ws"
        writer = await glossed_server(root, llm, start_lsp)
        reader = await start_lsp(root)
        assert (await status_of(reader))["store"]["mode"] == "reading"
        # Its wait for the store (a thread blocked in flock) must not keep it alive.
        await asyncio.wait_for(reader.client.shutdown_session(), LIMIT_S)
        assert await asyncio.wait_for(process_of(reader).wait(), LIMIT_S) == 0
        # The writer is unaffected, and still the writer.
        assert (await status_of(writer))["store"]["mode"] == "writing"
        assert "small-model" in hover_text(await writer.hover("m2.py", 8))
