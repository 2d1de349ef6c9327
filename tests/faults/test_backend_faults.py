"""Every host fault of issue 11 over `gloss index`: each span glossed with a real answer,
or failed with a reason naming the host (or the gate's reason); never a hang, never
a traceback, the store sound. The runner and the judge are bench/faults.py's, so the
suite and the benchmark's table say the same thing.

No case is marked xfail: a case that fails says what Gloss did wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.faults import BACKEND_CASES, SPANS, BackendCase, CaseRun, run_backend_case


def explain(run: CaseRun) -> str:
    status = run.status or {}
    return (
        f"case {run.case} ({run.fault}), expected: {run.expect}\n"
        + "\n".join(f"  - {p}" for p in run.problems)
        + f"\n  gloss index exit {run.index.exit_code} after {run.index.seconds:.1f} s; "
        f"{run.requests} requests; status: {status.get('enriched')}/{SPANS} glossed, "
        f"{status.get('failed')} failed, {status.get('pending')} pending; "
        f"reasons: {[r['reason'][:120] for r in status.get('failure_reasons', [])][:3]}\n"
        f"  stderr tail: {run.index.stderr.strip().splitlines()[-3:]}"
    )


@pytest.mark.parametrize("case", BACKEND_CASES, ids=lambda c: c.name)
def test_gloss_index_survives(case: BackendCase, tmp_path: Path) -> None:
    run = run_backend_case(case, tmp_path)
    assert not run.problems, explain(run)
