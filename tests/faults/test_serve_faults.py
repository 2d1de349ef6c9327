"""The key host faults over `gloss serve`, the real server over stdio: the engine settles
(nothing queued or in flight) within a bound, every span ends glossed or failed with
its reason, a hover over a span answers and says which, the store is sound, and the
server never reports an internal error. Then two servers on one folder, as two
editor windows: no span is sent to a model twice.

Judged by bench/faults.py's `problems`, as `gloss index` is; no case is xfail."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from bench.faults import (
    CASES_BY_NAME,
    HOST_NAMES,
    LIMIT_S,
    OK_SLOW,
    SERVE_CASES,
    SPANS,
    STORE_REL,
    CaseRun,
    Run,
    checkpoint,
    decoy,
    fault_hosts,
    fault_toml,
    garbage,
    integrity,
    make_workspace,
    problems,
    run_gloss,
    shows_gloss_of,
    status_problems,
    store_bytes,
    stored_failures,
    stored_glosses,
)
from bench.support.fault_server import FaultServer, Plan, always
from bench.support.workspace import function_source
from tests.conftest import Session, StartLsp, as_dict
from tests.faults.disk import fill

REQUEST_LIMIT_S = 30.0
FIRST_SPAN = ("src/module_000.py", 3)  # `def scaled_total_00000(...)`: line 4, 0-based 3


async def settle(session: Session, limit_s: float = LIMIT_S) -> bool:
    """Until the server says: scanned, nothing queued, nothing in flight. False past the bound."""
    try:
        await session.progress.wait_idle(limit_s=limit_s, root=session.root)
    except TimeoutError:
        return False
    return True


def breaker_shown(backends: dict[str, Any], name: str) -> list[str]:
    """A failing host's breaker in gloss/status: not closed, its error, when it is probed."""
    entry = backends.get(name)
    if not isinstance(entry, dict):
        return [f"gloss/status lists no backend {name!r}: {sorted(backends)}"]
    found: list[str] = []
    state = entry.get("state")
    if state in (None, "closed", "not started"):
        found.append(f"gloss/status shows the failing host {name!r} as {state!r}")
    if not (entry.get("last_error") or entry.get("down_reason")):
        found.append(f"gloss/status gives no error for the failing host {name!r}: {entry}")
    if state in ("open", "down") and not isinstance(entry.get("next_probe_s"), int | float):
        found.append(f"gloss/status does not say when {name!r} is probed next: {entry}")
    return found


async def settle_after(session: Session, seen: int, limit_s: float = LIMIT_S) -> bool:
    """Until a gloss/progress notification after the first `seen` says idle; False past
    the bound (a server that never takes up its work again sends none)."""

    def idle_since(events: list[dict[str, Any]]) -> bool:
        fresh = [e for e in events[seen:] if e["root"] == str(session.root)]
        return (
            bool(fresh)
            and bool(fresh[-1]["scanned"])
            and fresh[-1]["queued"] == 0
            and (fresh[-1]["in_flight"] == 0)
        )

    try:
        await session.progress.wait_for(idle_since, limit_s)
    except TimeoutError:
        return False
    return True


async def settle_writers(sessions: list[Session]) -> list[bool | None]:
    """Wait for the first server to settle; then for each other one that reports progress
    (it glosses too). None: a server that sent no progress at all (it only reads)."""
    tasks = [asyncio.ensure_future(settle(s)) for s in sessions]
    pending = set(tasks)
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if any(t.result() for t in done):
                break
        for task, session in zip(tasks, sessions, strict=True):
            if not task.done() and not session.progress.events:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for task in tasks:
            task.cancel()
    return [t.result() if t.done() and not t.cancelled() else None for t in tasks]


async def folder_status(session: Session) -> dict[str, Any]:
    result = await asyncio.wait_for(
        session.client.protocol.send_request_async("gloss/status", {}), REQUEST_LIMIT_S
    )
    folders = as_dict(result)["folders"]
    assert len(folders) == 1, folders
    folder: dict[str, Any] = folders[0]
    return folder


async def hover_text(session: Session) -> str:
    rel, line = FIRST_SPAN
    hover = await asyncio.wait_for(session.hover(rel, line), REQUEST_LIMIT_S)
    if hover is None:
        return ""
    contents = hover.contents
    return contents.value if isinstance(contents, types.MarkupContent) else str(contents)


def server_errors(session: Session, capfd: pytest.CaptureFixture[str] | None = None) -> list[str]:
    """Internal errors the server showed the user, and tracebacks on its stderr (which
    pytest-lsp forwards to this process's, read through `capfd`)."""
    said = [m.message for m in session.client.messages + session.client.log_messages]
    found = [m[:200] for m in said if "Traceback" in m or "Error in server" in m]
    if capfd is not None:
        err = capfd.readouterr().err
        if "Traceback (most recent call last)" in err:
            tail = err[err.index("Traceback (most recent call last)") :].strip().splitlines()
            found.append("a traceback on the server's stderr: " + " | ".join(tail[-2:])[:300])
    return found


@pytest.mark.parametrize("name", SERVE_CASES)
async def test_gloss_serve_survives(
    name: str, tmp_path: Path, start_lsp: StartLsp, capfd: pytest.CaptureFixture[str]
) -> None:
    case = CASES_BY_NAME[name]
    root = make_workspace(tmp_path / name)
    with fault_hosts(case.hosts) as (servers, urls):
        (root / "gloss.toml").write_text(fault_toml(urls, case.kind))
        started = time.monotonic()
        session = await start_lsp(root)
        idle = await settle(session)
        seconds = time.monotonic() - started
        status = await folder_status(session)
        hover = await hover_text(session)
        requests = sum(len(s.requests) for s in servers)
    db = root / STORE_REL
    ended = Run(["serve"], 0 if idle else None, "", "", seconds, LIMIT_S)
    run = CaseRun(
        case=name,
        fault=case.fault,
        expect=case.expect,
        index=ended,
        status=status if "spans" in status else None,
        status_error=str(status.get("error", "")),
        integrity=integrity(db),
        requests=requests,
        requests_by_symbol={},
        host_urls=urls,
        glosses=stored_glosses(db),
        failures=stored_failures(db),
        store_bytes=store_bytes(db),
    )
    found = problems(case, run, what="gloss serve (settling)", check_exit=False)
    found += [f"server reported an error: {e}" for e in server_errors(session, capfd)]
    if case.expect == "failed" and "backends" in status:
        found += breaker_shown(status["backends"], HOST_NAMES[0])
    if not hover:
        found.append("hover over scaled_total_00000 answered nothing")
    elif case.expect in ("failed", "rejected") and "fail" not in hover.lower():
        found.append(f"hover does not say the gloss failed: {hover[:160]!r}")
    elif case.expect == "glossed" and not shows_gloss_of(hover, "scaled_total_00000"):
        found.append(f"hover does not show the gloss: {hover[:160]!r}")
    if shows_gloss_of(hover, "scaled_total_00001"):
        found.append(f"hover shows another function's gloss: {hover[:160]!r}")
    assert not found, f"case {name} ({case.fault}) over gloss serve:\n" + "\n".join(
        f"  - {p}" for p in found
    )


async def test_gloss_serve_on_a_garbage_store(
    tmp_path: Path, start_lsp: StartLsp, capfd: pytest.CaptureFixture[str]
) -> None:
    """A store overwritten with garbage: the server starts, says so, rebuilds, hovers work."""
    root = make_workspace(tmp_path / "ws")
    db = root / STORE_REL
    with FaultServer(Plan(always(OK_SLOW), decoy=decoy)) as server:
        (root / "gloss.toml").write_text(fault_toml([server.url]))
        first = await start_lsp(root)
        assert await settle(first), "setup: the first server did not settle"
        await asyncio.wait_for(first.client.shutdown_session(), REQUEST_LIMIT_S)
        checkpoint(db)
        garbage(db)
        session = await start_lsp(root)
        idle = await settle(session)
        status = await folder_status(session)
        hover = await hover_text(session)
    found: list[str] = []
    if not idle:
        found.append(f"the server did not settle within {LIMIT_S:g} s on a garbage store")
    if "spans" not in status:
        found.append(f"gloss/status has no report, only: {status}")
    else:
        found += status_problems(status, "")
        if int(status["enriched"]) != SPANS:
            found.append(f"{status['enriched']} of {SPANS} spans glossed after the rebuild")
    said = " ".join(m.message for m in session.client.messages + session.client.log_messages)
    if str(db) not in said and "index.db" not in said:
        found.append(f"the user was not told about the damaged store {db}: {said[:200]!r}")
    if not shows_gloss_of(hover, "scaled_total_00000"):
        found.append(f"hover after the rebuild does not show the gloss: {hover[:160]!r}")
    if integrity(db) != "ok":
        found.append(f"store integrity_check: {integrity(db)}")
    found += [f"server reported an error: {e}" for e in server_errors(session, capfd)]
    assert not found, "gloss serve on a garbage store:\n" + "\n".join(f"  - {p}" for p in found)


async def test_two_servers_on_one_folder_send_no_span_twice(
    tmp_path: Path, start_lsp: StartLsp, capfd: pytest.CaptureFixture[str]
) -> None:
    """Two editor windows on one folder: both serve, the store is sound, and the host
    sees each symbol once (the answers are all good: a second request is a duplicate)."""
    root = make_workspace(tmp_path / "ws")
    with FaultServer(Plan(always(OK_SLOW), decoy=decoy)) as server:
        (root / "gloss.toml").write_text(fault_toml([server.url]))
        one, two = await asyncio.gather(start_lsp(root), start_lsp(root))
        writers = await settle_writers([one, two])
        statuses = [await folder_status(one), await folder_status(two)]
        hovers = [await hover_text(one), await hover_text(two)]
        by_symbol = {str(s): n for s, n in server.count_by_symbol().items()}
    twice = sorted(s for s, n in by_symbol.items() if n > 1)
    found: list[str] = []
    if not any(writers):
        found.append(f"neither server settled (scanned, nothing queued) within {LIMIT_S:g} s")
    for i, (session, settled) in enumerate(zip((one, two), writers, strict=True), 1):
        if settled is False:
            last = session.progress.events[-1] if session.progress.events else "none"
            found.append(
                f"server {i} reported progress but never idle within {LIMIT_S:g} s; "
                f"its last gloss/progress: {str(last)[:300]}"
            )
    if twice:
        found.append(
            f"{len(twice)} of {len(by_symbol)} symbols were sent to the model more than once "
            f"(e.g. {twice[0]}: {by_symbol[twice[0]]} requests)"
        )
    for i, status in enumerate(statuses, 1):
        if "spans" not in status:
            found.append(f"server {i}: gloss/status has no report, only: {status}")
        elif int(status["enriched"]) != SPANS:
            found.append(f"server {i} shows {status['enriched']} of {SPANS} spans glossed")
    for i, hover in enumerate(hovers, 1):
        if not shows_gloss_of(hover, "scaled_total_00000"):
            found.append(f"server {i}: hover does not show the gloss: {hover[:160]!r}")
    check = integrity(root / STORE_REL)
    if check != "ok":
        found.append(f"store integrity_check: {check}")
    found += [f"server reported an error: {e}" for e in server_errors(one, capfd)]
    found += [f"server reported an error: {e}" for e in server_errors(two)]
    assert not found, "two gloss serve on one folder:\n" + "\n".join(f"  - {p}" for p in found)


async def test_gloss_serve_hovers_from_a_read_only_store(
    tmp_path: Path,
    start_lsp: StartLsp,
    read_only_mount: Callable[[Path], Path],
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Glossed once, then the store's directory mounted read-only: the server starts,
    says the store is read-only, and its hovers and status read what is stored."""
    root = make_workspace(tmp_path / "ws")
    db = root / STORE_REL
    with FaultServer(Plan(always(OK_SLOW), decoy=decoy)) as server:
        (root / "gloss.toml").write_text(fault_toml([server.url]))
        first = run_gloss(["index", str(root)])
        assert first.exit_code == 0, f"setup: gloss index exited {first.exit_code}"
        read_only_mount(db.parent)
        session = await start_lsp(root)
        # Everything is glossed already: nothing to wait for (a server that cannot
        # write has no work to report progress on).
        status = await folder_status(session)
        hover = await hover_text(session)
    found: list[str] = []
    if "spans" not in status:
        found.append(f"gloss/status has no report, only: {status}")
    elif int(status["enriched"]) != SPANS:
        found.append(f"gloss/status shows {status['enriched']} of {SPANS} spans glossed")
    if not shows_gloss_of(hover, "scaled_total_00000"):
        found.append(f"hover on a read-only store does not show the gloss: {hover[:160]!r}")
    said = " ".join(m.message for m in session.client.messages + session.client.log_messages)
    if "read-only" not in said.lower() and "read only" not in said.lower():
        found.append(f"the user was not told the store is read-only: {said[:200]!r}")
    found += [f"server reported an error: {e}" for e in server_errors(session, capfd)]
    assert not found, "gloss serve on a read-only store:\n" + "\n".join(f"  - {p}" for p in found)


async def told(session: Session, words: tuple[str, ...], limit_s: float = LIMIT_S) -> str | None:
    """The first window/showMessage or logMessage holding one of `words` (bounded), or None."""

    def said() -> str | None:
        for m in session.client.messages + session.client.log_messages:
            if any(w in m.message.lower() for w in words):
                return m.message
        return None

    async def next_message() -> None:
        waiters = [
            asyncio.ensure_future(session.client.wait_for_notification(method))
            for method in ("window/showMessage", "window/logMessage")
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    try:
        async with asyncio.timeout(limit_s):
            while (found := said()) is None:
                await next_message()
    except TimeoutError:
        return None
    return found


async def test_gloss_serve_on_a_full_disk_keeps_hovers_and_resumes(
    tmp_path: Path,
    start_lsp: StartLsp,
    small_tmpfs: Callable[[Path, str], Path],
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The store on a small tmpfs, glossed; the server running; the disk fills and new
    code arrives: the user is told, hovers still answer from the store; space returns:
    the new code is glossed without a restart, and nothing committed is lost."""
    disk = small_tmpfs(tmp_path / "disk", "4m")
    store = disk / "index.db"
    root = make_workspace(tmp_path / "ws")
    with FaultServer(Plan(always(OK_SLOW), decoy=decoy)) as server:
        (root / "gloss.toml").write_text(fault_toml([server.url], store=str(store)))
        first = run_gloss(["index", str(root)])
        assert first.exit_code == 0, f"setup: gloss index exited {first.exit_code}"
        session = await start_lsp(root)
        assert await settle(session), "setup: the server did not settle on a glossed store"
        filler = fill(disk)
        more = [function_source(SPANS + i) for i in range(SPANS)]
        (root / "src" / "more.py").write_text('"""More code."""\n\n\n' + "\n\n".join(more))
        message = await told(session, ("full", "space"))
        hover = await hover_text(session)
        before = len(session.progress.events)
        filler.unlink()
        resumed = await settle_after(session, before)
        status = await folder_status(session)
    found: list[str] = []
    if message is None:
        found.append(f"the user was not told the disk is full within {LIMIT_S:g} s")
    elif str(store) not in message and str(disk) not in message:
        found.append(f"the full-disk message does not name the store: {message[:200]!r}")
    if not shows_gloss_of(hover, "scaled_total_00000"):
        found.append(f"hover on a full disk does not show the stored gloss: {hover[:160]!r}")
    if not resumed:
        found.append(f"the server did not settle within {LIMIT_S:g} s once space returned")
    if "spans" not in status:
        found.append(f"gloss/status has no report, only: {status}")
    elif int(status["enriched"]) != 2 * SPANS:
        found.append(
            f"{status['enriched']} of {2 * SPANS} spans glossed once space returned "
            f"({status['spans']} spans known, pending {status['pending']}, "
            f"failed {status['failed']})"
        )
    if integrity(store) != "ok":
        found.append(f"store integrity_check: {integrity(store)}")
    found += [f"server reported an error: {e}" for e in server_errors(session, capfd)]
    assert not found, "gloss serve on a full disk:\n" + "\n".join(f"  - {p}" for p in found)
