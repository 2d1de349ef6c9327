"""The names-ready benchmark on a small generated tree (no Django download).

Shape and correctness only: a real `gloss serve` answers every target with its
own file and line, the store holds every definition the extractor cuts, and
`gloss index` reports its scan. Nothing here asserts on timing; the benchmark
itself reports times against the budget.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.names_ready import BenchConfig, fresh_workspace, main, pick_targets, scan_order, the_tree
from bench.support.workspace import write_workspace

SPANS = 24
PER_FILE = 5
FILES = 5  # 5 + 5 + 5 + 5 + 4


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    write_workspace(root, SPANS, per_file=PER_FILE)
    return root


def test_targets_come_from_the_last_file_in_scan_order(tree: Path, tmp_path: Path) -> None:
    ws = fresh_workspace(the_tree(BenchConfig(source=tree)), tmp_path)
    assert (ws / "gloss.toml").is_file()
    order = scan_order(ws)
    assert [f.path for f in order] == [f"src/module_{i:03d}.py" for i in range(FILES)]
    targets = pick_targets(ws, order)
    assert targets[0].where == "last file" and targets[0].path == order[-1].path
    assert {t.path for t in targets} <= {f.path for f in order}
    # The longest name of the last file: its functions are scaled_total_00020..23.
    assert targets[0].name.startswith("scaled_total_000")


def test_report_shape(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    code = main(["--source", str(tree), "--runs", "1", "--timeout-s", "60", "--json", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "names searchable" in text and ("PASS" in text or "FAIL" in text)
    data = json.loads(out.read_text())
    assert (data["files"], data["definitions"]) == (FILES, SPANS)
    assert data["last_file"] == f"src/module_{FILES - 1:03d}.py"
    (serve,) = data["serve"]
    assert serve["exit_code"] == 0
    assert (serve["files_stored"], serve["spans_stored"]) == (FILES, SPANS)
    assert serve["initialize_s"] is not None and serve["names_s"] is not None
    assert all(f["seconds"] is not None and f["asked"] >= 1 for f in serve["found"])
    (index,) = data["index"]
    assert (index["files"], index["spans_queued"]) == (FILES, SPANS)
    for key in ("bare_parse_s", "extractor_s", "import_server_s", "python_bare_s"):
        assert len(data[key]) == 1 and data[key][0] > 0
    assert data["names"]["median_s"] == serve["names_s"]
    assert data["budget_s"] == 2.0 and isinstance(data["passed"], bool)
    assert data["notes"] == []
