"""The languages benchmark on a tiny corpus written here (no download), so it cannot rot.

Structure and correctness only: each language is timed both ways the asked
number of times, the mixed tree reaches its size with copies, the first
`gloss index` glosses every span through the test server and the rescans send
it nothing. Nothing here asserts on timing; the benchmark reports times.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.languages import BenchConfig, build_tree, format_report, main, run_benchmark
from bench.support.llm_server import Behavior, LLMServer
from bench.support.real_code import files_by_language
from enrich_core.records.span import Span
from enrich_core.source.languages import LanguageSpec
from enrich_core.source.spans import extract_spans

# Files where three corpora land (see SOURCES in bench/support/real_code.py): a
# present corpus is one whose folders exist.
FILES = {
    "pip-24.3.1/pip/shapes.py": (
        "class Square:\n"
        "    def area(self, side: int) -> int:\n"
        "        return side * side\n\n\n"
        "def perimeter(side: int) -> int:\n"
        "    return 4 * side\n"
    ),
    "npm-10.9.2/package/lib/total.js": (
        "function total (items) {\n  return items.reduce((a, b) => a + b, 0)\n}\n\n"
        "class Cart {\n  add (item) {\n    this.items.push(item)\n  }\n}\n"
    ),
    "debian-libfmt-dev/usr/include/fmt/point.h": (
        "namespace geo {\nstruct Point {\n  int x;\n  int norm() const { return x * x; }\n};\n}\n"
    ),
}
# Square, Square.area, perimeter; total, Cart, Cart.add; geo::Point, geo::Point::norm.
SPANS = {"python": 3, "javascript": 3, "cpp": 2}
LANGUAGES = ["python", "javascript", "cpp"]


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    root = tmp_path / "cache"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


async def test_languages_timed_and_tree_indexed_with_zero_calls_on_rescan(cache: Path) -> None:
    report = await run_benchmark(BenchConfig(cache_dir=cache, repeats=2, files=8))
    assert [r.language for r in report.languages] == LANGUAGES
    for run in report.languages:
        assert run.files == 1 and run.bytes > 0 and not run.raised
        assert run.spans == SPANS[run.language]
        assert len(run.extract_s) == len(run.parse_s) == 2
        assert run.ratio > 0 and run.spans_per_s > 0
    index = report.index
    assert index is not None
    assert index.tree_files == 8 and index.copies == 3  # 3 files, then copies: 3 + 3 + 2
    assert index.by_language == {"python": 3, "javascript": 3, "cpp": 2}
    assert index.first.exit_code == 0 and index.first.scan["parsed"] == 8
    assert index.first.scan_s is not None and 0 < index.first.scan_s < index.first.seconds
    assert index.spans == 8 + 8 + 6  # the three files, then copies: all three, then two
    assert index.status["enriched"] == index.spans and index.status["failed"] == 0
    # A copy holds the same definitions: same texts, same hashes, glossed once each.
    assert index.first.requests == 8
    assert len(index.rescans) == len(index.read_parse_s) == 2
    for rescan in index.rescans:
        assert rescan.requests == rescan.requests_for_glossed == 0 and rescan.exit_code == 0
        assert (rescan.scan["parsed"], rescan.scan["unchanged"]) == (0, 8)
    assert index.files_read == 8 and index.zero_calls
    assert not report.notes
    text = format_report(report)
    assert "zero LLM calls on rescan: PASS" in text
    assert "python" in text and "cpp" in text


async def test_a_file_the_extractor_raises_on_is_left_out(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fussy(path: str, source: str, spec: LanguageSpec | None = None) -> list[Span]:
        if path.endswith("total.js"):
            raise IndexError("list index out of range")
        return extract_spans(path, source, spec)

    monkeypatch.setattr("bench.languages.extract_spans", fussy)
    report = await run_benchmark(BenchConfig(cache_dir=cache, repeats=1, index=False))
    javascript = next(r for r in report.languages if r.language == "javascript")
    assert javascript.files == 0 and javascript.raised == [
        "npm/package/lib/total.js: IndexError: list index out of range"
    ]
    assert report.index is None and "not run" in format_report(report)
    assert any("raised on 1 javascript files" in n for n in report.notes)


async def test_a_rescan_retrying_a_failed_gloss_is_no_call_for_a_glossed_span(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Failing(LLMServer):
        """The test server, answering garbage for one function: its gloss fails."""

        def reset(self) -> None:
            super().reset()  # the bench resets before each run; reset forgets behaviours
            self.set_behavior(Behavior(mode="garbage"), symbol="perimeter")

    monkeypatch.setattr("bench.languages.LLMServer", Failing)
    report = await run_benchmark(BenchConfig(cache_dir=cache, repeats=1, files=3))
    index = report.index
    assert index is not None and index.first.exit_code == 3
    assert index.status["failed"] == 1 and index.status["enriched"] == 7
    (rescan,) = index.rescans
    # `gloss index` retries the failed span at once, and asks for nothing else.
    assert rescan.requests >= 1 and rescan.requests_for_glossed == 0
    assert index.zero_calls
    assert any("retried the spans whose gloss failed" in n for n in report.notes)


def test_build_tree_is_deterministic_and_copies_differ(cache: Path, tmp_path: Path) -> None:
    by_language = files_by_language(cache)
    first, second = tmp_path / "a", tmp_path / "b"
    assert build_tree(first, by_language, 5, set()) == build_tree(second, by_language, 5, set())

    def tree(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.*")}

    assert tree(first) == tree(second) and len(tree(first)) == 5
    original = first / "pip/pip/shapes.py"
    copy = first / "copy-1/pip/pip/shapes.py"
    assert copy.read_text() == original.read_text() + "\n# copy 1 of pip/pip/shapes.py\n"
    left = tmp_path / "left"
    build_tree(left, by_language, 1, {"pip/pip/shapes.py"})
    assert not (left / "pip/pip/shapes.py").exists()


def test_main_prints_writes_json_and_exits_zero(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "languages.json"
    code = main(["--cache-dir", str(cache), "--repeats", "1", "--no-index", "--json", str(out)])
    assert code == 0
    assert "extract_spans beside the bare tree-sitter parse" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert [r["language"] for r in data["languages"]] == LANGUAGES
    assert all(r["ratio"] > 0 and "passed" in r for r in data["languages"])
    assert data["index"] is None
