"""The status JSON's keys are the ones both editor clients read.

`records/status.py` is typed, so a renamed field is a type error in Python; the
VS Code client (statusReport.ts, progress.ts) and the Neovim module (gloss.lua)
read the same keys from JSON, where a rename would silently blank a status bar.
This reads each client's source and checks every key it takes from a status
object is one the record produces. It also checks the record's JSON against a
real engine's, so the key sets below are what the server sends.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path

from bench.support.llm_server import Behavior, LLMServer
from enrich_core.config import load_config
from enrich_core.records import status as records
from enrich_core.run.engine import Engine
from tests.conftest import SMALL

ROOT = Path(__file__).resolve().parents[1]
STATUS_REPORT_TS = ROOT / "vscode-client/src/statusReport.ts"
PROGRESS_TS = ROOT / "vscode-client/src/progress.ts"
GLOSS_LUA = ROOT / "editors/nvim/lua/gloss.lua"
# gloss/status answers a folder without an engine with these two keys only.
FOLDER_ERROR_KEYS = {"root", "error"}


def json_keys(cls: type) -> set[str]:
    """The keys `to_json` can write for a record class (flattened fields merged in)."""
    hints = typing.get_type_hints(cls)
    keys: set[str] = set()
    for f in fields(cls):
        if f.metadata.get("flatten"):
            hint = hints[f.name]
            nested = [t for t in typing.get_args(hint) if is_dataclass(t) and isinstance(t, type)]
            nested = nested or [hint]
            for t in nested:
                keys |= json_keys(t)
        else:
            keys.add(f.name)
    return keys


def body(text: str, start: str, end: str) -> str:
    """The source from `start` up to the first `end` after it: one function's body."""
    i = text.index(start)
    return text[i : text.index(end, i)]


def read_keys(source: str, var: str) -> set[str]:
    """Keys read as `var.key` (TypeScript and Lua alike)."""
    return set(re.findall(rf"(?<![\w.]){re.escape(var)}\.([a-z_]+)\b", source))


def test_json_keys_follow_flattening() -> None:
    keys = json_keys(records.BackendStatus)
    assert {"url", "healthy", "state", "last_error", "requests_ok", "p95_ms", "kind"} <= keys
    assert "health" not in keys and "requests" not in keys
    assert "watch" not in json_keys(records.GpuStatus)
    assert "throttled" in json_keys(records.GpuStatus)


def test_read_keys_finds_what_a_client_reads() -> None:
    src = "x = f.spans + num(f.files); y = ff.nope; z = q.by_priority.hover"
    assert read_keys(src, "f") == {"spans", "files"}
    assert read_keys(src, "q") == {"by_priority"}


def test_the_vscode_status_report_reads_only_keys_the_record_writes() -> None:
    folder = body(STATUS_REPORT_TS.read_text(), "function renderFolder(", "\n}\n")
    expected = {
        "f": json_keys(records.WorkspaceStatus) | FOLDER_ERROR_KEYS,
        "q": json_keys(records.QueueStatus),
        "b": json_keys(records.BackendStatus),
        "t": json_keys(records.TierTotals),
        "gate": json_keys(records.GateTally),
        "e": json_keys(records.Escalation),
        "r": json_keys(records.FailureReason),
        "g": json_keys(records.GpuStatus),
    }
    for var, keys in expected.items():
        read = read_keys(folder, var)
        assert read, f"statusReport.ts reads nothing as {var}.*: the test lost track of it"
        assert read <= keys, f"statusReport.ts reads {sorted(read - keys)} from {var}"
    # Read by name through a variable: e[key] for these two.
    for key in re.findall(r"\['[^']+', '(\w+)'\]", folder):
        assert key in expected["e"], key


def test_the_vscode_progress_reads_only_keys_the_notification_writes() -> None:
    parse = body(PROGRESS_TS.read_text(), "isRecord(raw) || typeof raw.root", "\n}\n")
    read = read_keys(parse, "raw")
    assert read and read <= json_keys(records.Progress), sorted(read)
    backend = read_keys(parse, "b")
    assert backend and backend <= json_keys(records.BackendHealth), sorted(backend)


def test_the_neovim_module_reads_only_keys_the_records_write() -> None:
    lua = GLOSS_LUA.read_text()
    summary = body(lua, "local function summary(", "\nend\n")
    for var, cls, extra in (
        ("folder", records.WorkspaceStatus, FOLDER_ERROR_KEYS),
        ("q", records.QueueStatus, set()),
        ("b", records.BackendStatus, set()),
    ):
        read = read_keys(summary, var)
        assert read and read <= json_keys(cls) | extra, (var, sorted(read))
    statusline = body(lua, "function M.statusline(", "\nend\n")
    read = read_keys(statusline, "p")
    assert read and read <= json_keys(records.Progress), sorted(read)
    backend = read_keys(statusline, "b")
    assert backend and backend <= json_keys(records.BackendHealth), sorted(backend)


async def test_a_real_engine_writes_exactly_the_record_keys(
    workspace: Path, llm: LLMServer
) -> None:
    engine = Engine(workspace, load_config(workspace))
    await engine.start()
    try:
        await engine.scan()
        await engine.wait_idle()
        status = (await engine.status()).to_json()
        progress = engine.progress().to_json()
    finally:
        await engine.stop()
    # Every key a client may read is present once a backend has answered.
    assert set(status) == json_keys(records.WorkspaceStatus)
    assert set(status["queue"]) == json_keys(records.QueueStatus)
    for backend in status["backends"].values():
        assert set(backend) == json_keys(records.BackendStatus)
    for tier in status["tiers"].values():
        assert set(tier) == json_keys(records.TierTotals)
        assert set(tier["gate"]) == json_keys(records.GateTally)
    assert set(status["escalation"]) == json_keys(records.Escalation)
    assert set(progress) == json_keys(records.Progress)
    for health in progress["backends"].values():
        assert set(health) == json_keys(records.BackendHealth)
    # No GPU here: the GPU entry says so, with a reason and nothing else.
    assert status["gpu"]["available"] is False and set(status["gpu"]) == {"available", "reason"}


async def test_each_tier_reports_the_share_of_its_answers_the_gate_rejected(
    workspace: Path, llm: LLMServer
) -> None:
    # The small model answers filler for one function: rejected, and the large one glosses it.
    llm.set_behavior(Behavior(mode="filler"), model=SMALL, symbol="load_config")
    engine = Engine(workspace, load_config(workspace))
    await engine.start()
    try:
        await engine.scan()
        await engine.wait_idle()
        status = (await engine.status()).to_json()
    finally:
        await engine.stop()
    spans = status["spans"]
    assert status["enriched"] == spans  # every span glossed, one of them by the large tier
    small, large = status["tiers"]["small"]["gate"], status["tiers"]["large"]["gate"]
    assert small == {
        "judged": spans,
        "rejected": 1,
        "rejected_share": round(1 / spans, 4),
        "reasons": {"filler": 1},
    }
    assert large == {"judged": 1, "rejected": 0, "rejected_share": 0.0, "reasons": {}}
    assert status["escalation"]["rejections"] == {"filler": 1}
    # What `gloss status` prints, from the store alone, in a process of its own.
    text = await asyncio.to_thread(gloss_status_text, workspace)
    assert f"  gate: 1 of {spans} answers rejected ({1 / spans:.0%}): filler 1\n" in text
    assert "  gate: 0 of 1 answers rejected (0%)\n" in text


def gloss_status_text(root: Path) -> str:
    ran = subprocess.run(
        [str(Path(sys.executable).parent / "gloss"), "status", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


async def test_a_tier_that_never_answered_has_no_share(workspace: Path, llm: LLMServer) -> None:
    engine = Engine(workspace, load_config(workspace))
    await engine.start()
    try:
        await engine.scan()
        await engine.wait_idle()
        status = (await engine.status()).to_json()
    finally:
        await engine.stop()
    assert status["tiers"]["large"]["gate"] == {
        "judged": 0,
        "rejected": 0,
        "rejected_share": None,
        "reasons": {},
    }
    assert status["tiers"]["small"]["gate"]["rejected_share"] == 0.0
