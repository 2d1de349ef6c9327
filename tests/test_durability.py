"""kill -9 in the middle of `gloss index`: the store is whole, paid-for glosses stay."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from bench.support.llm_server import LLMServer
from enrich_core.store.writer import MAX_BATCH_ROWS
from tests.conftest import gloss_toml

GLOSS = str(Path(sys.executable).parent / "gloss")
SPANS = 80


def test_kill_9_mid_run_then_restart_loses_nothing_committed(tmp_path: Path) -> None:
    with LLMServer(capacity=2, latency_s=0.03) as llm:
        (tmp_path / "gloss.toml").write_text(gloss_toml(llm.url))
        body = "".join(f"def f_{i:03d}(x):\n    return x * {i}\n\n\n" for i in range(SPANS))
        (tmp_path / "many.py").write_text(body)
        proc = subprocess.Popen(
            [GLOSS, "index", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            assert llm.wait_for_requests(30, timeout=60)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        answered_before_kill = len(llm.requests)

        db = tmp_path / ".gloss" / "index.db"
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            committed = conn.execute("SELECT count(*) FROM glosses").fetchone()[0]
        finally:
            conn.close()
        assert committed > 0
        # What was answered but not yet committed is at most one batch (plus what
        # was in flight at the kill): that is all a restart redoes.
        assert answered_before_kill - committed <= MAX_BATCH_ROWS + 2

        done = subprocess.run([GLOSS, "index", str(tmp_path)], capture_output=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        resent = len(llm.requests) - answered_before_kill
        assert resent == SPANS - committed  # committed glosses are never asked for again
