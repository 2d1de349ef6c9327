"""The quality bench's corpus as shipped: enough cases, each found, no documentation left.

The corpus is data (`bench/data/quality`); these checks read it as the bench
will, through Gloss's own extractor, and rebuild it from its sources when they
are on the machine to show the shipped files are what the builder writes.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path

import pytest

from bench.support import quality_corpus as corpus
from bench.support.real_code import default_cache_dir
from enrich_core.records.span import Span
from enrich_core.source import grammars
from enrich_core.source.languages import language_named
from enrich_core.source.spans import cut_spans


def _workspace_files() -> dict[str, str]:
    return {
        path.relative_to(corpus.WORKSPACE).as_posix(): path.read_text("utf-8")
        for path in sorted(corpus.WORKSPACE.rglob("*"))
        if path.is_file()
    }


def _spans(relative: str, text: str) -> list[Span]:
    cut = cut_spans(relative, text)
    assert not cut.unparsed, f"{relative}: lines the extractor could not read: {cut.unparsed}"
    return cut.spans


@pytest.fixture(scope="module")
def cases() -> list[corpus.Case]:
    return corpus.load_cases()


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return _workspace_files()


def test_counts_languages_and_modules(cases: list[corpus.Case]) -> None:
    languages = Counter(case.language for case in cases)
    assert languages["python"] >= corpus.MIN_PYTHON
    assert sum(n for language, n in languages.items() if language != "python") >= corpus.MIN_OTHER
    modules = {case.module for case in cases if case.language == "python"}
    assert len(modules) >= corpus.MIN_PYTHON_MODULES
    assert len({case.id for case in cases}) == len(cases)


def test_callees_are_cases_of_the_same_file(cases: list[corpus.Case]) -> None:
    by_id = {case.id: case for case in cases}
    pairs = [(case, by_id.get(callee)) for case in cases for callee in case.callees]
    assert all(callee is not None and callee.path == case.path for case, callee in pairs)
    # Callers and their callees both scored: what callee summaries in a prompt can move.
    assert len(pairs) >= 40
    assert Counter(case.kind for case in cases)["method"] >= 30


def test_every_docstring_has_two_sentences_and_a_first_paragraph(
    cases: list[corpus.Case],
) -> None:
    for case in cases:
        name = case.qualname.rsplit(".", 1)[-1]
        assert corpus.sentence_count(case.docstring, name) >= corpus.MIN_SENTENCES, case.id
        assert case.first_paragraph == corpus.first_paragraph(case.docstring, name), case.id
        assert case.first_paragraph, case.id


def test_every_case_is_exactly_one_span_with_its_signature(
    cases: list[corpus.Case], files: dict[str, str]
) -> None:
    spans = {relative: _spans(relative, text) for relative, text in files.items()}
    for case in cases:
        assert case.path in files, f"{case.id}: {case.path} is not in the workspace"
        matches = [s for s in spans[case.path] if s.qualname == case.qualname]
        assert len(matches) == 1, f"{case.id}: {len(matches)} spans"
        assert matches[0].signature == case.signature, case.id
    total = sum(len(found) for found in spans.values())
    assert total <= corpus.MAX_SPANS


def test_every_file_parses_and_no_span_keeps_documentation(files: dict[str, str]) -> None:
    go = language_named("go")
    assert go is not None
    documentable = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
    for relative, text in files.items():
        if relative.endswith(".py"):
            tree = ast.parse(text, relative)
            documented = [
                node
                for node in ast.walk(tree)
                if isinstance(node, documentable) and ast.get_docstring(node)
            ]
            assert not documented, f"{relative}: docstrings left"
        else:
            assert relative.endswith(".go"), relative
            assert not grammars.parser(go).parse(text.encode("utf-8")).root_node.has_error
        for span in _spans(relative, text):
            assert not span.docstring, f"{relative}: {span.qualname} keeps {span.docstring!r}"


def test_no_hidden_docstring_text_is_left_in_the_workspace(
    cases: list[corpus.Case], files: dict[str, str]
) -> None:
    hidden = [(case.id, case.docstring) for case in cases]
    assert corpus.leaks(files.values(), hidden) == []
    # The check can fail: a docstring's opening planted in a comment is found.
    planted = f"# {cases[0].docstring[: corpus.LEAK_PREFIX]}"
    assert corpus.leaks([*files.values(), planted], hidden) == [
        f"{cases[0].id}: {corpus._normal(cases[0].docstring)[: corpus.LEAK_PREFIX]!r}"
    ]


def test_licences_and_sources_name_every_file(files: dict[str, str]) -> None:
    assert "PYTHON SOFTWARE FOUNDATION LICENSE" in (corpus.DATA_DIR / corpus.PSF_LICENCE).read_text(
        "utf-8"
    )
    assert "BSD-3-Clause" in (corpus.DATA_DIR / corpus.GO_LICENCE).read_text("utf-8")
    sources = corpus.SOURCES_FILE.read_text("utf-8")
    for relative in files:
        origin = relative.removeprefix("python/").removeprefix(f"go/{corpus.GO_MODULE}/")
        assert origin in sources, f"SOURCES.md does not name {relative}"


def test_the_builder_writes_the_shipped_corpus() -> None:
    go_root = default_cache_dir() / "debian-go" / corpus.GO_TREE
    if not corpus.DEFAULT_CPYTHON_LIB.is_dir() or not go_root.is_dir():
        pytest.skip(
            f"sources absent ({corpus.DEFAULT_CPYTHON_LIB}, {go_root}); "
            "fetch Go with: .venv/bin/python -m bench.support.real_code fetch"
        )
    built = corpus.collect(corpus.DEFAULT_CPYTHON_LIB, go_root)
    corpus.check(built)
    assert built.files == _workspace_files()
    shipped = json.loads(Path(corpus.CASES_FILE).read_text("utf-8"))
    assert [case.to_json() for case in built.cases] == shipped
