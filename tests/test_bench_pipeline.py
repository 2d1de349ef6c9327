"""The pipeline benchmark's functions at tiny sizes: structure, every span glossed, the cap.

Nothing here asserts on timing or rates; the benchmark itself reports them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.pipeline_throughput import (
    VARIANTS,
    BenchConfig,
    HostSpec,
    HostStats,
    body_key,
    format_report,
    load_spans,
    main,
    ollama_body,
    report_json,
    run_bare,
    run_benchmark,
    run_gloss,
)
from bench.support.timed_server import TimedLLMServer
from bench.support.workspace import bench_config, write_workspace

N = 12
C = 2
L = 0.01


def _bodies(workspace: Path, tmp_path: Path) -> list[dict[str, Any]]:
    config = bench_config([("http://127.0.0.1:1", C)], tmp_path / "probe.db")
    spans = load_spans(workspace, config)
    return [ollama_body(s, config.tiers[0], config.backends[0]) for s in spans]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    write_workspace(root, N, per_file=5)
    return root


def test_workspace_holds_n_distinct_functions_in_file_order(
    workspace: Path, tmp_path: Path
) -> None:
    config = bench_config([("http://127.0.0.1:1", C)], tmp_path / "probe.db")
    spans = load_spans(workspace, config)
    assert len(spans) == N
    assert len({s.content_hash for s in spans}) == N
    assert [s.path for s in spans] == sorted(s.path for s in spans)
    assert len({s.path for s in spans}) == 3  # 5 + 5 + 2
    bodies = _bodies(workspace, tmp_path)
    assert len({body_key(b) for b in bodies}) == N
    assert all(b["stream"] is False and b["format"]["type"] == "object" for b in bodies)


async def test_bare_client_answers_every_body_within_the_cap(
    workspace: Path, tmp_path: Path
) -> None:
    bodies = _bodies(workspace, tmp_path)
    with TimedLLMServer(C, L) as server:
        run = await run_bare("bare", [server], [C], bodies)
        assert sorted(body_key(r.body) for r in server.requests) == sorted(map(body_key, bodies))
    assert (run.variant, run.spans, run.in_flight) == ("bare", N, C)
    assert (run.completed, run.failed) == (N, 0)
    assert run.hosts[0].requests == run.hosts[0].answers == N
    assert run.max_in_flight <= C and run.cap_ok
    assert run.window_s > 0 and run.per_s > 0
    assert run.ideal_per_s == pytest.approx(C / L)


async def test_cap_check_catches_a_client_above_the_cap(workspace: Path, tmp_path: Path) -> None:
    bodies = _bodies(workspace, tmp_path)
    with TimedLLMServer(C, 0.2) as server:
        run = await run_bare("bare", [server], [C + 2], bodies)
    assert run.completed == N
    assert run.max_in_flight > C
    assert not run.cap_ok
    assert not HostStats(C, L, 1, 1, C + 1, C, 0.0, 1.0).cap_ok


async def test_gloss_run_glosses_every_span_within_the_cap(workspace: Path, tmp_path: Path) -> None:
    bodies = _bodies(workspace, tmp_path)
    with TimedLLMServer(C, L) as server:
        run = await run_gloss("gloss", [server], [C], workspace, tmp_path / "g.db", bodies)
    assert (run.variant, run.spans, run.in_flight) == ("gloss", N, C)
    assert (run.completed, run.failed) == (N, 0)
    assert run.store_enriched == N
    assert run.bodies_match is True  # Gloss sent exactly what the bare client sends
    assert run.hosts[0].requests == run.hosts[0].answers == N
    assert run.max_in_flight <= C and run.cap_ok
    assert run.scan_s is not None and run.end_to_end_s is not None
    assert run.window_s > 0


async def test_two_hosts_share_the_spans_within_each_cap(workspace: Path, tmp_path: Path) -> None:
    bodies = _bodies(workspace, tmp_path)
    with TimedLLMServer(1, L) as fast, TimedLLMServer(1, 2 * L) as slow:
        bare = await run_bare("bare_2hosts", [fast, slow], [1, 1], bodies)
        gloss = await run_gloss(
            "gloss_2hosts", [fast, slow], [1, 1], workspace, tmp_path / "g2.db", bodies
        )
    for run in (bare, gloss):
        assert (run.completed, run.failed) == (N, 0)
        assert sum(h.answers for h in run.hosts) == N
        assert [h.capacity for h in run.hosts] == [1, 1]
        assert all(h.max_in_flight <= 1 for h in run.hosts) and run.cap_ok
        assert run.ideal_per_s == pytest.approx(1 / L + 1 / (2 * L))
    assert bare.hosts[1].answers > 0  # the bare client keeps both hosts busy
    assert gloss.bodies_match is True


async def test_benchmark_report_structure() -> None:
    config = BenchConfig(
        spans=N,
        capacity=C,
        latency_s=L,
        repeats=2,
        naive_spans=4,
        hosts=(HostSpec(1, L), HostSpec(1, 2 * L)),
    )
    report = await run_benchmark(config)
    assert list(report.variants) == list(VARIANTS)
    for name, summary in report.variants.items():
        assert [r.repeat for r in summary.runs] == [0, 1]
        expected = 4 if name == "naive" else N
        assert all(r.spans == r.completed == expected and r.failed == 0 for r in summary.runs)
        assert summary.all_completed and summary.cap_ok
        assert summary.min_per_s <= summary.median_per_s <= summary.max_per_s
    for run in report.variants["gloss"].runs + report.variants["gloss_2hosts"].runs:
        assert run.store_enriched == N and run.bodies_match is True
    assert report.variants["gloss"].max_in_flight <= C
    assert report.variants["naive"].max_in_flight == 1
    assert report.cap_ok and report.all_completed
    assert len(report.paired_ratios) == 2
    assert report.passed == (report.ratio >= report.budget_ratio)
    text = format_report(report)
    assert ("PASS" in text) != ("FAIL" in text)
    data = json.loads(json.dumps(report_json(report)))
    assert set(data["variants"]) == set(VARIANTS)
    assert data["config"]["spans"] == N


def test_main_prints_writes_json_and_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "pipeline.json"
    code = main(
        ["--spans", str(N), "--capacity", str(C), "--latency-ms", "10", "--repeats", "1",
         "--naive-spans", "3", "--json", str(out)]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "budget >= 0.95" in printed
    data = json.loads(out.read_text())
    assert data["config"]["capacity"] == C
    assert data["config"]["latency_s"] == pytest.approx(L)
    for name in VARIANTS:
        runs = data["variants"][name]["runs"]
        assert len(runs) == 1 and runs[0]["failed"] == 0
        assert all(h["max_in_flight"] <= h["capacity"] for h in runs[0]["hosts"])
