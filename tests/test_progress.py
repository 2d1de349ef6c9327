"""Progress counts spans: the bar, the plan `gloss index` prints first, its summary, and
one try per span per index run.

The bar and the wording are checked on a fake terminal (a StringIO that says it is
a TTY); the run itself through the real `gloss index` against the test LLM server,
its stderr on a real pseudo-terminal so the bar is drawn as a user sees it. What
the server was asked is counted at the server.
"""

from __future__ import annotations

import asyncio
import io
import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

from bench.support.llm_server import Behavior, LLMServer
from enrich_core.config import load_config
from enrich_core.records.attempt import AttemptEvent, AttemptPhase
from enrich_core.records.gloss import parse_gloss
from enrich_core.records.result import GlossResult
from enrich_core.records.status import BackendHealth, BackendStatus, RequestTotals, SpanCounts
from enrich_core.run.engine import Engine, ScanReport
from enrich_core.run.scheduler import SpanRef
from enrich_core.store.access import StoreRole
from server.cli.index_plan import (
    IndexPlan,
    Latency,
    duration,
    plan_lines,
    plan_of,
    summary_lines,
)
from server.cli.progress_bar import BAR_WIDTH, ProgressBar
from server.cli.run_tally import RunTally
from tests.conftest import LARGE, SAMPLE, SMALL, gloss_toml, write_files
from tests.test_cli import GLOSS, RUN_TIMEOUT_S, explain, gloss

SAMPLE_SPANS = 5
TIERS = 2
FAILING = "load_config"  # answers garbage on every tier
# Failed spans would be due again at once: inside one run only the run's rule stops it.
FAST_RETRY = "\n[retry]\nbase_s = 0.01\n"
BAR_FRAME = re.compile(rf"\[([#.]{{{BAR_WIDTH}}})\] (\d+)/(\d+) spans?")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def ref(name: str) -> SpanRef:
    return SpanRef("m.py", name, f"hash-{name}", 0)


def result(name: str, *, ok: bool) -> GlossResult:
    gloss = None
    if ok:
        gloss = parse_gloss(
            '{"summary": "Adds two numbers.", "inputs": ["a", "b"], "outputs": ["the sum"], '
            '"side_effects": [], "pitfalls": [], "usage_snippet": "add(1, 2)", '
            '"tags": ["math"]}',
            "stop",
        )
    return GlossResult(content_hash=f"hash-{name}", gloss=gloss, failure=None if ok else "no")


def event(
    name: str, phase: AttemptPhase, tier: str = "small", *, escalated: bool = False,
    retry: bool = False
) -> AttemptEvent:  # fmt: skip
    backend = None if phase is AttemptPhase.WAITING else "test"
    return AttemptEvent(f"hash-{name}", phase, tier, backend, escalated, retry, True)


def frames(text: str) -> list[str]:
    return [f for f in re.split(r"[\r\n]", text) if BAR_FRAME.search(f)]


# --- the bar on a fake terminal --------------------------------------------------


def test_the_bar_counts_spans_resolved_and_says_which_tier_is_tried() -> None:
    out, tally = Terminal(), RunTally()
    bar = ProgressBar(tally, out, tiers=("small", "large"))
    bar.start(4)
    tally.attempt(event("a", AttemptPhase.STARTED))
    tally.attempt(event("b", AttemptPhase.STARTED))
    tally.attempt(event("a", AttemptPhase.ENDED))
    tally.result(ref("a"), result("a", ok=True))
    tally.attempt(event("b", AttemptPhase.ENDED))
    tally.attempt(event("b", AttemptPhase.STARTED, "large", escalated=True))
    tally.attempt(event("c", AttemptPhase.STARTED))
    tally.attempt(event("c", AttemptPhase.ENDED))
    tally.attempt(event("c", AttemptPhase.WAITING))
    line = bar.line()
    assert "1/4 spans · 1 glossed · 0 failed · 1 waiting to retry" in line
    assert "trying 'large' (1 in flight)" in line and "1 escalated" in line
    tally.attempt(event("c", AttemptPhase.STARTED, retry=True))
    line = bar.line()
    assert "waiting" not in line and "1 retry" in line
    assert "trying 'small' (1 in flight), 'large' (1)" in line
    # Two answers for one span on two tiers: still one span, counted when it resolves.
    tally.attempt(event("b", AttemptPhase.ENDED, "large"))
    tally.result(ref("b"), result("b", ok=False))
    assert "2/4 spans · 1 glossed · 1 failed" in bar.line()
    assert tally.calls == 5 and tally.escalations == 1 and tally.retries == 1


def test_the_bar_is_full_only_when_no_span_is_left() -> None:
    out, tally = Terminal(), RunTally()
    remaining = [3]
    bar = ProgressBar(tally, out, outstanding=lambda: remaining[0])
    bar.start(2)
    for name in ("a", "b"):
        remaining[0] -= 1
        tally.result(ref(name), result(name, ok=False))
    # As many resolved as planned, but a span queued since (a file changed) remains.
    line = bar.line()
    assert "2/3 spans · 0 glossed · 2 failed" in line
    assert "#" * BAR_WIDTH not in line
    remaining[0] = 0
    tally.result(ref("c"), result("c", ok=True))
    bar.finish()
    drawn = frames(out.getvalue())
    assert drawn[-1].startswith("[" + "#" * BAR_WIDTH + "] 3/3 spans")
    assert "done" in drawn[-1]
    for frame in drawn:  # never more resolved than to resolve; full only at the end
        match = BAR_FRAME.search(frame)
        assert match is not None
        done, total = int(match[2]), int(match[3])
        assert done <= total
        assert (match[1] == "#" * BAR_WIDTH) == (done == total)
    assert out.getvalue().endswith("\n")


def test_spans_resolved_before_the_plan_count_and_dropped_ones_leave_the_total() -> None:
    out, tally = Terminal(), RunTally()
    bar = ProgressBar(tally, out)
    tally.result(ref("a"), result("a", ok=True))  # the scan still runs: nothing drawn
    tally.drop(1)
    assert out.getvalue() == ""
    bar.start(5)
    tally.result(ref("b"), result("b", ok=True))
    tally.result(ref("c"), result("c", ok=False))
    tally.result(ref("d"), result("d", ok=True))
    bar.finish()
    last = frames(out.getvalue())[-1]
    assert "4/4 spans · 3 glossed · 1 failed · 1 dropped (file gone)" in last
    assert last.startswith("[" + "#" * BAR_WIDTH + "]")


def test_a_bar_stopped_early_says_so_and_an_interrupted_one_ends_its_line() -> None:
    out, tally = Terminal(), RunTally()
    remaining = [2]
    bar = ProgressBar(tally, out, outstanding=lambda: remaining[0])
    bar.start(3)
    remaining[0] = 1
    tally.result(ref("a"), result("a", ok=True))
    bar.finish()  # the store stopped taking writes: one span is left
    last = frames(out.getvalue())[-1]
    assert "1/3 spans · 1 glossed · 0 failed · stopped" in last
    assert "#" * BAR_WIDTH not in last
    interrupted, tally = Terminal(), RunTally()
    cut = ProgressBar(tally, interrupted)
    cut.start(2)
    assert not interrupted.getvalue().endswith("\n")
    cut.close()  # Ctrl-C: the message after it must not run on from the bar
    cut.close()
    assert interrupted.getvalue().endswith("\n") and interrupted.getvalue().count("\n") == 1
    untouched = Terminal()
    ProgressBar(RunTally(), untouched).close()  # never drawn: nothing to end
    assert untouched.getvalue() == ""


def test_silent_on_a_pipe_and_with_nothing_to_gloss() -> None:
    piped, tally = io.StringIO(), RunTally()
    bar = ProgressBar(tally, piped)
    bar.start(2)
    tally.result(ref("a"), result("a", ok=True))
    bar.finish()
    assert piped.getvalue() == ""
    idle = Terminal()
    nothing = ProgressBar(RunTally(), idle)
    nothing.start(0)
    nothing.finish()
    assert idle.getvalue() == ""


# --- the plan and the summary ------------------------------------------------------


def plan(queued: int, spans: int, texts: int, latency: Latency | None = None) -> IndexPlan:
    report = ScanReport(files=3, parsed=1, unchanged=2, skipped=0, removed=0, queued=queued)
    return IndexPlan(report, spans, texts, (("small", SMALL), ("large", LARGE)), latency)


def test_the_plan_accounts_for_every_span_and_bounds_the_calls() -> None:
    lines = plan_lines(plan(20, 752, 752))
    assert lines[0] == "3 files (1 parsed, 2 unchanged, 0 skipped)"
    assert lines[1] == "20 spans to gloss of 752 (732 already glossed)"
    assert lines[2].startswith(f"tiers in order: 'small' ({SMALL}), then 'large' ({LARGE})")
    assert "at least 20 (one per span), at most 40 (every span through all 2 tiers)" in lines[3]
    assert len(lines) == 4  # no latency figures yet: no time guessed
    # Spans of one text share a gloss: 733 + 0 + 19 = 752.
    shared = plan_lines(plan(733, 752, 733))[1]
    assert shared == (
        "733 spans to gloss of 752 (0 already glossed; 19 more have the same text as "
        "another span and share its gloss)"
    )
    assert plan_lines(plan(1, 5, 5))[1] == "1 span to gloss of 5 (4 already glossed)"
    assert plan_lines(plan(0, 5, 5)) == [lines[0], "0 spans to gloss of 5 (5 already glossed)"]


def test_the_plan_gives_a_rough_time_from_earlier_latency() -> None:
    slow = Latency("local", median_s=5.0, answered=40, at_once=2)
    time_line = plan_lines(plan(20, 752, 752, slow))[-1]
    assert time_line == (
        "time: about 50 s (20 calls × 5.0 s ÷ 2 at a time; 5.0 s is the median of the "
        "40 requests 'local' answered before); up to 2 min if every span needs every tier"
    )
    assert [duration(s) for s in (0.2, 89, 600, 7500)] == ["1 s", "89 s", "10 min", "2 h 5 min"]


def test_the_summary_says_what_the_run_did_apart_from_the_workspace_totals() -> None:
    tally = RunTally(glossed=4, failed=1, calls=7, escalations=1, retries=1)
    counts = SpanCounts(
        files=2, spans=5, enriched=4, pending=0, failed=1, stale=0, outdated=0,
        llm_calls=12, tokens_in=3000, tokens_out=400,
    )  # fmt: skip
    workspace, run, totals = summary_lines(tally, counts)
    assert workspace.startswith("4/5 spans glossed, 0 pending, 1 failed (no answer accepted;")
    assert run == (
        "this run: 5 spans tried: 4 glossed, 1 failed; 7 model calls: 5 first requests, "
        "1 on a later tier (escalated), 1 retry after a host failed a request"
    )
    assert totals == "all runs: 12 model calls, 3000 tokens in, 400 out"


def test_latency_comes_from_the_first_tier_backend_with_figures(tmp_path: Path) -> None:
    write_files(tmp_path, {"gloss.toml": gloss_toml("http://127.0.0.1:9")})
    config = load_config(tmp_path)
    health = BackendHealth("http://127.0.0.1:9", True, "closed", None)
    figures = RequestTotals(requests_ok=8, requests_failed=1, p50_ms=2500.0, p95_ms=9000.0)
    backends = {"test": BackendStatus(health, "ollama", 0, 0, 2, figures)}
    report = ScanReport(1, 1, 0, 0, 0, 4)
    assert plan_of(report, 4, 4, config, backends).latency == Latency("test", 2.5, 8, 2)
    never = {"test": BackendStatus(health, "ollama", 0, 0, 2, None)}
    assert plan_of(report, 4, 4, config, never).latency is None


# --- one try per span per index run ----------------------------------------------------


def failing_workspace(root: Path, llm: LLMServer) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_files(root, SAMPLE)
    (root / "gloss.toml").write_text(gloss_toml(llm.url, extra=FAST_RETRY))
    # The others take a while, so a timer retry of the failing span would fall due
    # while the run still waits for them.
    llm.set_behavior(Behavior(delay_s=0.3))
    llm.set_behavior(Behavior(mode="garbage"), symbol=FAILING)
    return root


def asked(llm: LLMServer, symbol: str) -> int:
    return sum(1 for s in llm.symbols() if s == symbol)


async def test_an_index_engine_tries_a_failing_span_once_a_server_retries_it(
    tmp_path: Path, llm: LLMServer
) -> None:
    root = failing_workspace(tmp_path / "ws", llm)
    config = load_config(root)
    engine = Engine(root, config)
    await engine.start(glossing=True, role=StoreRole.INDEX)
    try:
        report = await engine.scan(retry_failed_now=True)
        await engine.wait_idle()
        assert report.queued == SAMPLE_SPANS
        assert asked(llm, FAILING) == TIERS  # one pass through the tiers, no timer retry
        assert engine.queue_status().waiting_to_retry == 0
    finally:
        await engine.stop()
    # The language server keeps its timer: the same span is asked again within the
    # backoff (0.01 s, doubling), without anything else happening.
    server = Engine(root, config)
    await server.start(glossing=True)
    try:
        await server.scan()
        more = TIERS * 3

        def retried(s: LLMServer) -> bool:  # runs under the server's lock: its own fields
            return sum(1 for r in s._requests if r.symbol == FAILING) >= more

        assert await asyncio.to_thread(llm.wait_for, retried, 20.0)
    finally:
        await server.stop()


def test_gloss_index_asks_a_failing_span_once_per_run_and_says_so(
    tmp_path: Path, llm: LLMServer
) -> None:
    ws = failing_workspace(tmp_path / "ws", llm)
    first = gloss("index", str(ws), cwd=ws)
    assert first.returncode == 3, explain(first)
    assert asked(llm, FAILING) == TIERS
    assert len(llm.requests) == SAMPLE_SPANS + TIERS - 1  # the others: one request each
    assert f"{SAMPLE_SPANS} spans to gloss of {SAMPLE_SPANS} (0 already glossed)" in first.stderr
    assert (
        f"model calls: at least {SAMPLE_SPANS} (one per span), at most "
        f"{SAMPLE_SPANS * TIERS} (every span through all {TIERS} tiers)" in first.stderr
    )
    assert "time:" not in first.stderr  # no latency figures before the first run
    out = first.stdout
    assert f"4/{SAMPLE_SPANS} spans glossed, 0 pending, 1 failed" in out
    assert (
        f"this run: {SAMPLE_SPANS} spans tried: 4 glossed, 1 failed; "
        f"{SAMPLE_SPANS + 1} model calls: {SAMPLE_SPANS} first requests, 1 on a later tier"
    ) in out
    assert "  1 span failed: small, large: model answer rejected: not_json" in out
    assert "the next `gloss index` tries them again at once" in out

    # The next run retries it at once, once, and says what else the workspace holds.
    again = gloss("index", str(ws), cwd=ws)
    assert again.returncode == 3, explain(again)
    assert asked(llm, FAILING) == 2 * TIERS
    assert f"1 span to gloss of {SAMPLE_SPANS} (4 already glossed)" in again.stderr
    assert re.search(r"time: about \d+ s \(1 call × [\d.]+ s ÷ 2 at a time", again.stderr)
    assert "this run: 1 span tried: 0 glossed, 1 failed; 2 model calls" in again.stdout


def start_on_a_terminal(ws: Path) -> tuple[subprocess.Popen[str], int]:
    """`gloss index` started with stderr on a pseudo-terminal: the process and the
    terminal's end to read what it draws."""
    main, side = pty.openpty()
    try:
        process = subprocess.Popen(
            [str(GLOSS), "index", str(ws)],
            cwd=ws,
            stdout=subprocess.PIPE,
            stderr=side,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    finally:
        os.close(side)
    return process, main


def run_on_a_terminal(ws: Path) -> tuple[int, str, str]:
    """`gloss index` with stderr on a pseudo-terminal: (exit code, stdout, what it drew)."""
    process, main = start_on_a_terminal(ws)
    drawn = bytearray()
    try:
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the process closed the terminal's last end
                break
            if not chunk:
                break
            drawn += chunk
        stdout, _ = process.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, stdout, drawn.decode()


def test_gloss_index_draws_spans_tiers_and_retries_on_a_terminal(
    tmp_path: Path, llm: LLMServer
) -> None:
    ws = failing_workspace(tmp_path / "ws", llm)
    # One span's first request fails with HTTP 500 once: retried on the same host.
    llm.set_behavior(Behavior(mode="status", status=500, fail_times=1), symbol="Circle.area")
    code, stdout, drawn = run_on_a_terminal(ws)
    assert code == 3, f"exit {code}\n{stdout}\n{drawn}"
    plan_at = drawn.index(f"{SAMPLE_SPANS} spans to gloss of {SAMPLE_SPANS}")
    shown = frames(drawn)
    assert shown and drawn.index(shown[0]) > plan_at  # the plan first, then the bar
    for frame in shown:
        match = BAR_FRAME.search(frame)
        assert match is not None
        done, total = int(match[2]), int(match[3])
        assert total == SAMPLE_SPANS and done <= total
        assert (match[1] == "#" * BAR_WIDTH) == (done == total), frame
    assert any("trying 'small'" in f for f in shown)
    last = shown[-1]
    assert f"{SAMPLE_SPANS}/{SAMPLE_SPANS} spans · 4 glossed · 1 failed · done" in last
    assert "1 escalated" in last and "1 retry" in last
    assert "this run: 5 spans tried: 4 glossed, 1 failed; 7 model calls" in stdout


def test_ctrl_c_during_the_bar_leaves_the_message_on_a_line_of_its_own(
    tmp_path: Path, llm: LLMServer
) -> None:
    ws = failing_workspace(tmp_path / "ws", llm)
    llm.set_behavior(Behavior(delay_s=30.0))  # still glossing when interrupted
    process, main = start_on_a_terminal(ws)
    drawn = ""
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not frames(drawn) and time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 1.0)
            if ready:
                drawn += os.read(main, 4096).decode()
        assert frames(drawn), drawn  # the bar is up
        process.send_signal(signal.SIGINT)
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk.decode()
        process.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, drawn
    before, message, _ = drawn.rpartition("gloss: interrupted")
    assert message and before.endswith("\n"), drawn
