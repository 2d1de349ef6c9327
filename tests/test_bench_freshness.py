"""The freshness benchmark's functions at tiny sizes: structure, every edit glossed, the cap.

Nothing here asserts on timing; the benchmark itself reports times and budgets.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bench.freshness import (
    BenchConfig,
    FifoScheduler,
    build_report,
    format_report,
    main,
    plan_edits,
    report_json,
    run_benchmark,
)
from bench.support.workspace import write_workspace
from enrich_core.run.scheduler import Priority, Scheduler, SpanRef
from enrich_core.source.spans import extract_spans

C = 2
L = 0.01
PER_FILE = 5


def _ref(i: int) -> SpanRef:
    return SpanRef("a.py", f"f{i}", f"hash{i}", i)


def test_fifo_scheduler_serves_in_arrival_order_whatever_the_priority() -> None:
    fifo, ranked = FifoScheduler(), Scheduler()
    for scheduler in (fifo, ranked):
        scheduler.submit(_ref(0), Priority.BACKLOG)
        scheduler.submit(_ref(1), Priority.BACKLOG)
        scheduler.submit(_ref(2), Priority.EDITED)
    assert fifo.position("hash2") == 2
    assert ranked.position("hash2") == 0
    order = []
    while (popped := fifo.pop()) is not None:
        order.append(popped[1].content_hash)
    assert order == ["hash0", "hash1", "hash2"]


def test_edits_alternate_a_changed_body_and_a_new_function_in_the_last_files(
    tmp_path: Path,
) -> None:
    paths = write_workspace(tmp_path, 12, per_file=PER_FILE)
    edits = plan_edits(tmp_path, paths, 4)
    assert [e.kind for e in edits] == ["body", "new", "body", "new"]
    assert [e.path for e in edits] == [paths[2], paths[1], paths[0], paths[2]]
    assert len({e.content_hash for e in edits}) == 4
    originals = {
        s.content_hash for p in paths for s in extract_spans(p, (tmp_path / p).read_text())
    }
    for edit in edits:
        spans = {s.qualname: s for s in extract_spans(edit.path, edit.text)}
        assert spans[edit.qualname].content_hash == edit.content_hash
        assert edit.content_hash not in originals
    assert "# edited" in edits[3].text  # a file edited twice carries the first edit too


async def test_benchmark_glosses_every_edit_within_the_cap() -> None:
    config = BenchConfig(
        backlogs=(10, 30),
        capacity=C,
        latency_s=L,
        edits=2,
        interval_s=0.05,
        warmup_s=0.0,
        fifo_cap_s=30.0,
        timeout_s=30.0,
        spans_per_file=PER_FILE,
    )
    report = await run_benchmark(config)
    assert [s.backlog for s in report.backlogs] == [10, 30]
    for s in report.backlogs:
        for run in (s.gloss, s.fifo):
            assert run.scan_queued == s.backlog
            assert len(run.edits) == 2
            assert [e.kind for e in run.edits] == ["body", "new"]
            assert run.all_glossed  # the cap is long enough for FIFO here too
            assert all(e.save_to_gloss_s is not None and not e.capped for e in run.edits)
            assert all(e.queued_by_save >= 1 for e in run.edits)
            assert 0 < run.max_in_flight <= C and run.cap_ok
        assert s.fifo_basis == "measured"
        assert s.gloss_median_s is not None and s.fifo_median_s is not None
        assert s.budget_s == pytest.approx(3 * L + 1.0)
    assert report.cap_ok and report.all_glossed
    assert report.flatness is not None
    verdict = "PASS" if report.passed else "FAIL"
    assert f"freshness budget at every N and cap held: {verdict}" in format_report(report)
    data = json.loads(json.dumps(report_json(report)))
    assert data["config"]["backlogs"] == [10, 30]
    assert len(data["backlogs"][0]["gloss"]["edits"]) == 2


async def test_a_capped_fifo_wait_is_projected_from_its_queue_position() -> None:
    # The cap is shorter than one backend latency: no FIFO save can be glossed in it.
    config = BenchConfig(
        backlogs=(20,),
        capacity=1,
        latency_s=0.05,
        edits=2,
        interval_s=0.02,
        warmup_s=0.0,
        fifo_cap_s=0.01,
        timeout_s=30.0,
        spans_per_file=PER_FILE,
    )
    report = await run_benchmark(config)
    (s,) = report.backlogs
    assert s.gloss.all_glossed
    assert s.fifo_basis == "projected"
    for e in s.fifo.edits:
        assert e.capped and not e.glossed and e.save_to_gloss_s is None
        assert e.ahead_at_save is not None and e.ahead_at_save > 0
        assert e.projected_s == pytest.approx(e.ahead_at_save * 0.05)
        assert e.estimate_s == e.projected_s
    assert s.fifo_median_s is not None and s.fifo_over_gloss is not None
    assert report.cap_ok and s.fifo.max_in_flight <= 1
    assert "projected" in format_report(report)
    # Not glossed within the limit makes the Gloss side FAIL, loudly.
    broken = build_report(config, [replace(s, gloss=s.fifo)], 0.0)
    assert not broken.all_glossed and not broken.passed
    assert any("NOT GLOSSED" in n for n in broken.notes)


def test_main_prints_writes_json_and_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "freshness.json"
    code = main(
        ["--backlogs", "8", "--capacity", str(C), "--latency-ms", "10", "--edits", "1",
         "--interval-ms", "10", "--warmup-ms", "1", "--fifo-cap-s", "20", "--json", str(out)]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "budget: 3 x L + 1 s = 1.03 s" in printed
    data = json.loads(out.read_text())
    assert data["config"]["capacity"] == C
    (backlog,) = data["backlogs"]
    assert backlog["backlog"] == 8
    assert all(e["glossed"] for e in backlog["gloss"]["edits"])
    assert backlog["gloss"]["max_in_flight"] <= C
