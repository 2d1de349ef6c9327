"""bench.faults end to end on two quick cases: it runs them, prints the table and the JSON.

Whether Gloss holds a case is tests/faults' business; here only the bench's own
working is checked (a refused host is the quickest case, a garbage store the
quickest store case)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.faults import SPANS, main, selected_cases

CASES = ("refused", "store_garbage")


def test_main_prints_the_table_writes_json_and_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "faults.json"
    argv = [arg for name in CASES for arg in ("--case", name)]
    assert main([*argv, "--limit-s", "60", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    header = "| case | spans glossed | failed honestly | requests sent | wall time | outcome |"
    assert header in printed
    rows = [line for line in printed.splitlines() if line.startswith("| ") and line != header]
    assert [row.split(" | ")[0].strip("| ") for row in rows] == list(CASES)
    assert f"/{SPANS} |" in rows[0]
    data = json.loads(out.read_text())
    assert [r["case"] for r in data["rows"]] == list(CASES)
    for row in data["rows"]:
        assert row["outcome"] and row["wall_s"] >= 0
        assert row["outcome"].startswith("NO:") == bool(row["problems"])
    refused = data["rows"][0]
    assert refused["requests_sent"] == 0  # nothing listens: no request can arrive


def test_unknown_case_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--case", "no_such_case"])
    assert exit_info.value.code == 2
    assert "no_such_case" in capsys.readouterr().err


def test_every_case_is_selected_by_default() -> None:
    names = [c.name for c in selected_cases(())]
    assert len(names) == len(set(names))
    assert {"slow_loris", "wrong_function", "store_garbage"} <= set(names)
