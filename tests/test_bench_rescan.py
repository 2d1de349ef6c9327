"""The rescan benchmark's functions on a small generated tree (no Django download).

Structure and correctness only: every rescan parses nothing, the baselines read
everything, a rescan after glossing makes no LLM call. Nothing here asserts on
timing; the benchmark itself reports times and ratios.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from bench.rescan import (
    BenchConfig,
    django_tree,
    format_report,
    gloss_everything,
    main,
    run_benchmark,
)
from bench.support.workspace import write_workspace

SPANS = 24
PER_FILE = 5
FILES = 5  # 5 + 5 + 5 + 5 + 4


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    write_workspace(root, SPANS, per_file=PER_FILE)
    return root


async def test_rescans_parse_nothing_and_baselines_read_everything(tree: Path) -> None:
    report = await run_benchmark(BenchConfig(source=tree, repeats=2, gloss_check=False))
    assert (report.files, report.spans, report.distinct_spans) == (FILES, SPANS, SPANS)
    first = report.first_scan.report
    assert first is not None and (first.parsed, first.unchanged) == (FILES, 0)
    for timed in report.rescans.runs:
        assert timed.report is not None
        assert (timed.report.parsed, timed.report.unchanged) == (0, FILES)
        assert timed.report.queued == SPANS  # nothing glossed yet: all still wanted
    for timed in report.full_reindex.runs:
        assert timed.report is not None and timed.report.parsed == FILES
    assert len(report.read_parse.runs) == 2
    assert all(t.report is None for t in report.read_parse.runs)
    assert report.rescans_parsed_zero
    assert report.gloss_check is None and report.rescans_glossed is None
    assert report.ratio_full_reindex > 0 and report.ratio_read_parse > 0
    assert "not checked" in format_report(report)


async def test_gloss_check_rescan_sends_no_request(tree: Path, tmp_path: Path) -> None:
    check = await gloss_everything(tree, tmp_path / "g.db", timeout_s=60)
    assert check.spans_glossed == SPANS and check.failed == 0
    assert check.gloss_requests == SPANS
    assert 0 < check.max_in_flight <= 8
    assert (check.rescan.parsed, check.rescan.unchanged, check.rescan.queued) == (0, FILES, 0)
    assert check.rescan_requests == 0 and check.rescan_waiting_to_retry == 0
    assert check.zero_calls


async def test_benchmark_with_gloss_check(tree: Path) -> None:
    report = await run_benchmark(BenchConfig(source=tree, repeats=1))
    assert report.gloss_check is not None and report.gloss_check.zero_calls
    assert report.rescans_glossed is not None
    for timed in report.rescans_glossed.runs:
        assert timed.report is not None
        assert (timed.report.parsed, timed.report.queued) == (0, 0)
    assert report.rescans_parsed_zero and not report.notes
    assert "zero LLM calls on rescan: PASS" in format_report(report)


def test_django_tree_unpacks_a_cached_wheel_once(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "Django-0.0-py3-none-any.whl", "w") as archive:
        archive.writestr("django/__init__.py", "def get_version():\n    return '0.0'\n")
    root, name = django_tree(tmp_path)  # a wheel in the cache: no download
    assert name == "Django-0.0-py3-none-any.whl"
    assert (root / "django" / "__init__.py").is_file()
    (root / "django" / "extra.py").write_text("x = 1\n")
    again, _ = django_tree(tmp_path)
    assert again == root and (root / "django" / "extra.py").exists()  # not unpacked again


def test_main_prints_writes_json_and_exits_zero(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "rescan.json"
    code = main(["--source", str(tree), "--repeats", "1", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "every rescan parsed 0 files: yes" in printed
    data = json.loads(out.read_text())
    assert data["files"] == FILES and data["spans"] == SPANS
    assert data["rescans"]["runs"][0]["report"]["parsed"] == 0
    assert "median_s" in data["rescans"]
    assert data["gloss_check"]["rescan_requests"] == 0
