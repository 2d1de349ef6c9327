"""A file deleted while its spans wait in the queue: they leave it, and the user is told why.

A real file is deleted from a real workspace while a slow test LLM server holds
the run; the worker finds it gone when its turn comes. Its spans must not stay
"pending" with no reason: they leave the store and the queue, and the run says
"N spans dropped: PATH was deleted". Text the deleted file shared with another
file is still glossed, for that file.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from bench.support.llm_server import Behavior, LLMServer
from tests.conftest import OpenEngine, gloss_toml
from tests.test_cli import GLOSS, RUN_TIMEOUT_S, explain, gloss

# Files that come first, so the doomed file is deleted before its turn comes.
# The scan's parse of it is still at hand then: the engine must see the file
# gone (a stat per span) rather than gloss text that is no longer on disk.
EARLY_FILES = 10
DELAY_S = 0.2
WAIT_S = 30.0


def make_tree(root: Path, llm: LLMServer, *, concurrency: int = 1) -> None:
    for i in range(EARLY_FILES):
        (root / f"a{i:02d}.py").write_text(f"def early_{i}(x):\n    return x + {i}\n")
    (root / "b_doomed.py").write_text(
        "def doomed_one(x):\n    return x * 11\n\n\n"
        "def doomed_two(x):\n    return x * 12\n\n\n"
        "def shared(x):\n    return x - 7\n"
    )
    # The same text as b_doomed.shared: one gloss serves both, queued for b_doomed.
    (root / "c_keeps.py").write_text("def shared(x):\n    return x - 7\n")
    (root / "gloss.toml").write_text(gloss_toml(llm.url, concurrency=concurrency))


async def test_spans_of_a_file_deleted_mid_run_leave_the_queue_with_the_reason(
    tmp_path: Path, open_engine: OpenEngine
) -> None:
    with LLMServer() as llm:
        llm.set_behavior(Behavior(delay_s=DELAY_S))
        make_tree(tmp_path, llm)
        engine = await open_engine(tmp_path)
        dropped_now: list[tuple[str, int, str]] = []
        engine.add_drop_listener(lambda path, d: dropped_now.append((path, d.spans, d.reason)))
        report = await engine.scan()
        assert report.queued == EARLY_FILES + 3
        assert await asyncio.to_thread(llm.wait_for_requests, 1, WAIT_S)
        (tmp_path / "b_doomed.py").unlink()
        await asyncio.wait_for(engine.wait_idle(), WAIT_S)

        status = await engine.status()
        assert dropped_now == [("b_doomed.py", 2, "was deleted")]
        assert {p: (d.spans, d.reason) for p, d in status.dropped_spans.items()} == {
            "b_doomed.py": (2, "was deleted")
        }
        assert status.to_json()["dropped_spans"] == {
            "b_doomed.py": {"spans": 2, "reason": "was deleted"}
        }
        # Gone from the store, so not pending; everything else glossed.
        counts = status.counts
        assert counts.pending == 0 and counts.failed == 0
        assert counts.spans == counts.enriched == EARLY_FILES + 1
        assert not await engine._store().spans_in_file("b_doomed.py")
        # No model call for the deleted file's own text; its shared text was
        # glossed once, for the file that still has it.
        symbols = llm.symbols()
        assert "doomed_one" not in symbols and "doomed_two" not in symbols
        assert symbols.count("shared") == 1
        hover = await engine.hover("c_keeps.py", 0)
        assert hover is not None and hover.gloss is not None


def test_gloss_index_says_how_many_spans_were_dropped_and_why(tmp_path: Path) -> None:
    with LLMServer() as llm:
        llm.set_behavior(Behavior(delay_s=DELAY_S))
        make_tree(tmp_path, llm)
        with subprocess.Popen(
            [str(GLOSS), "index", str(tmp_path)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as run:
            try:
                assert llm.wait_for_requests(1, WAIT_S)
                (tmp_path / "b_doomed.py").unlink()
                stdout, stderr = run.communicate(timeout=RUN_TIMEOUT_S)
            finally:
                if run.poll() is None:
                    run.kill()
        result = subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)
        assert result.returncode == 0, explain(result)
        assert "2 spans dropped: b_doomed.py was deleted" in result.stdout, explain(result)
        status = gloss("status", str(tmp_path), "--json", cwd=tmp_path)
        counts = json.loads(status.stdout)
        assert counts["pending"] == 0 and counts["spans"] == counts["enriched"] == EARLY_FILES + 1


async def test_a_file_that_becomes_too_large_mid_run_is_skipped_with_its_spans_dropped(
    tmp_path: Path, open_engine: OpenEngine
) -> None:
    with LLMServer() as llm:
        llm.set_behavior(Behavior(delay_s=DELAY_S))
        make_tree(tmp_path, llm)
        toml = tmp_path / "gloss.toml"
        toml.write_text(toml.read_text() + "\n[index]\nmax_file_bytes = 4000\n")
        engine = await open_engine(tmp_path)
        await engine.scan()
        assert await asyncio.to_thread(llm.wait_for_requests, 1, WAIT_S)
        doomed = tmp_path / "b_doomed.py"
        doomed.write_text(doomed.read_text() + "#" * 5000 + "\n")
        await asyncio.wait_for(engine.wait_idle(), WAIT_S)
        status = await engine.status()
        dropped = status.dropped_spans["b_doomed.py"]
        assert dropped.spans == 2 and dropped.reason.startswith("is skipped now: ")
        assert "b_doomed.py" in status.skipped_files
        assert status.counts.pending == 0


async def test_a_span_handed_over_to_another_file_never_lets_the_queue_look_idle() -> None:
    from enrich_core.run.scheduler import Priority, Scheduler, SpanRef

    scheduler = Scheduler()
    gone = SpanRef("gone.py", "shared", "h1", 0)
    scheduler.submit(gone, Priority.BACKLOG)
    scheduler.submit(SpanRef("gone.py", "other", "h2", 5), Priority.BACKLOG)
    popped = scheduler.pop()
    assert popped is not None and popped[1] == gone
    assert scheduler.forget_file("gone.py") == {"h2"}
    keeper = SpanRef("keeps.py", "shared", "h1", 0)
    scheduler.hand_over(keeper, Priority.BACKLOG)
    idle = asyncio.create_task(scheduler.wait_idle())
    await asyncio.sleep(0)  # let the waiter run: it must still be waiting
    assert not idle.done()
    assert scheduler.in_flight == 0 and scheduler.queued == 1
    assert scheduler.pop() == (Priority.BACKLOG, keeper)
    scheduler.done("h1")
    await asyncio.wait_for(idle, WAIT_S)
