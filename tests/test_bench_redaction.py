"""The redaction benchmark at a tiny size: both variants agree, secrets are counted.

Nothing here asserts on timing; the benchmark itself reports the rates.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.redaction import (
    BenchConfig,
    collect_spans,
    format_report,
    main,
    run_benchmark,
)

TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"  # assembled: no scanner trips


def tree(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "client.py").write_text(
        f'def connect(token="{TOKEN}"):\n    """Open a session."""\n    return token\n\n\n'
        "class Store:\n    def put(self, key, value):\n        return key\n"
    )
    (root / ".venv").mkdir()
    (root / ".venv" / "skipped.py").write_text("def hidden():\n    return 1\n")
    return root


def test_spans_come_from_the_tree_and_skip_tool_directories(tmp_path: Path) -> None:
    files, spans = collect_spans(tree(tmp_path))
    assert files == 1
    assert [s.qualname for s in spans] == ["connect", "Store", "Store.put"]
    assert spans[0].path == "pkg/client.py" and TOKEN in spans[0].signature


async def test_both_variants_redact_the_same_and_the_report_says_so(tmp_path: Path) -> None:
    report = await run_benchmark(BenchConfig(source=tree(tmp_path), repeats=2))
    assert report.spans == 3
    assert report.mismatches == 0
    assert report.redactions == 2  # the signature and the code of connect
    assert report.spans_past_pre_check == 1
    assert set(report.variants) == {"pre-check", "every rule", "code only"}
    assert all(len(v.us_per_span) == 2 for v in report.variants.values())
    text = format_report(report)
    assert "same redacted request fields for every span: yes" in text
    assert TOKEN not in text


def test_main_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert main(["--source", str(tree(tmp_path / "ws")), "--repeats", "1", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["mismatches"] == 0 and data["spans"] == 3
