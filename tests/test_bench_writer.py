"""The writer benchmark's functions at tiny sizes: structure, rows landed, batch bounds.

Nothing here asserts on timing; the benchmark itself reports rates and budgets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.writer_throughput import (
    VARIANTS,
    BenchConfig,
    count_rows,
    format_report,
    main,
    make_results,
    report_json,
    run_batched,
    run_benchmark,
    run_per_row,
)
from enrich_core.records.gloss import parse_gloss
from enrich_core.store.writer import MAX_BATCH_ROWS


def test_results_are_valid_glosses_with_distinct_hashes() -> None:
    results = make_results(50)
    assert len({r.content_hash for r in results}) == 50
    for r in results:
        assert r.gloss is not None
        assert parse_gloss(r.gloss.to_json()) == r.gloss


async def test_batched_run_commits_every_row_in_bounded_batches(tmp_path: Path) -> None:
    db = tmp_path / "batched.db"
    run = await run_batched(db, make_results(150))
    assert run.variant == "batched"
    assert run.rows == 150
    assert run.rows_in_db == count_rows(db) == 150
    assert sum(run.batch_rows) == 150
    assert run.commits == len(run.batch_rows) >= 3  # 150 rows cannot fit in 2 batches
    assert run.max_rows_per_commit == max(run.batch_rows) <= MAX_BATCH_ROWS
    assert run.journal_mode == "wal"


@pytest.mark.parametrize(("journal", "sync"), [("delete", 2), ("wal", 1)])
async def test_per_row_run_commits_each_row(tmp_path: Path, journal: str, sync: int) -> None:
    db = tmp_path / f"{journal}.db"
    run = await run_per_row(db, make_results(20), journal)  # type: ignore[arg-type]
    assert run.variant == f"per_row_{journal}"
    assert (run.journal_mode, run.synchronous) == (journal, sync)
    assert run.rows == run.commits == run.rows_in_db == count_rows(db) == 20
    assert run.max_rows_per_commit == 1


async def test_benchmark_report_structure_and_rows_landed(tmp_path: Path) -> None:
    config = BenchConfig(rows=50, per_row_rows=10, repeats=1, parent=tmp_path, keep=True)
    report = await run_benchmark(config)
    assert set(report.variants) == set(VARIANTS)
    directory = Path(report.directory)
    for name, summary in report.variants.items():
        assert len(summary.runs) == 1
        run = summary.runs[0]
        expected = 50 if name == "batched" else 10
        assert run.rows == run.rows_in_db == expected
        assert count_rows(directory / f"{name}-0.db") == expected
        assert summary.min_rows_per_s <= summary.median_rows_per_s <= summary.max_rows_per_s
    assert report.variants["batched"].runs[0].max_rows_per_commit <= MAX_BATCH_ROWS
    assert report.ratio_vs_delete > 0 and report.ratio_vs_wal > 0
    assert report.passed == (report.ratio_vs_delete >= report.budget_ratio)
    text = format_report(report)
    assert ("PASS" in text) != ("FAIL" in text)
    data = json.loads(json.dumps(report_json(report)))
    assert set(data["variants"]) == set(VARIANTS)
    assert data["config"]["rows"] == 50


def test_main_prints_writes_json_exits_zero_and_cleans_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "writer.json"
    parent = tmp_path / "dbs"
    code = main(
        ["--rows", "40", "--per-row-rows", "5", "--repeats", "2", "--dir", str(parent),
         "--json", str(out)]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "budget >= 20x" in printed
    data = json.loads(out.read_text())
    for name in VARIANTS:
        runs = data["variants"][name]["runs"]
        assert [r["repeat"] for r in runs] == [0, 1]
        assert all(r["rows"] == r["rows_in_db"] for r in runs)
    assert list(parent.iterdir()) == []  # databases removed without --keep
