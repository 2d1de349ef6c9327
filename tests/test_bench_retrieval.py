"""The retrieval bench: its data is whole and honest, its scoring is right, and a small
subset runs through the real pipeline (gloss index, the gate, Engine.search)."""

from __future__ import annotations

import json

import httpx
import pytest

from bench.retrieval import (
    VECTOR_ROWS,
    BenchConfig,
    RetrievalReport,
    format_report,
    main,
    run_benchmark,
)
from bench.retrieval_cases import (
    RECALL_AT,
    Case,
    content_stems,
    data_problems,
    groups_of,
    load_cases,
    name_overlaps,
    rank_of,
    score,
    shares_description_word,
    source_of,
    words,
)
from bench.support import minilm
from bench.support.llm_server import LLMServer, described_gloss
from enrich_core.llm.gate import check_quality
from enrich_core.records.gloss import parse_gloss
from enrich_core.source.spans import extract_spans


def case(function: str, *queries: str, description: str = "Does a thing well.") -> Case:
    return Case("g", function, "test", description, queries)


def test_the_set_has_at_least_100_functions_in_varied_files_and_no_problem() -> None:
    cases = load_cases()
    assert len(cases) >= 100
    assert len(groups_of(cases)) >= 8
    assert data_problems(cases) == []


def test_no_query_or_description_shares_a_word_with_its_function_name() -> None:
    # The check data_problems runs, spelt out over every case.
    for c in load_cases():
        own = set(words(c.function))
        for text in (c.description, *c.queries):
            assert not own & set(words(text)), (c.function, text)


def test_the_overlap_check_catches_case_splitting_and_word_forms() -> None:
    assert words("loadConfig") == ["load", "config"] == words("load_config")
    assert words("HTTPResponse2") == ["http", "response", "2"]
    assert name_overlaps(case("load_config", "read settings with env overrides")) == []
    caught = name_overlaps(case("load_config", "parse the configuration", "Load it"))
    assert caught == [
        "load_config: query 'parse the configuration' shares configuration",
        "load_config: query 'Load it' shares load",
    ]
    assert name_overlaps(case("serveStatic", "a web server")) != []
    assert name_overlaps(case("is_fresh", "it is old")) != []  # short words count whole
    assert name_overlaps(case("is_fresh", "an island")) == []  # ... and only whole
    assert name_overlaps(case("f", "q", description="Describes f")) != []


def test_a_query_sharing_only_stop_words_with_its_description_shares_none() -> None:
    assert content_stems("Reads the strings of a file") == {"read", "string", "file"}
    assert content_stems("reading stored files") == {"read", "stor", "file"}
    c = case("f", description="Reads settings from a JSON document.")
    assert shares_description_word(c, "parse the settings")
    assert not shares_description_word(c, "load it from a file")


def test_a_span_without_a_case_and_a_case_without_its_function_are_problems() -> None:
    cases = [c for c in load_cases() if c.group == "numbers"]
    assert data_problems(cases[1:]) == [f"numbers: {cases[0].function} has no case"]
    ghost = Case("numbers", "ghost_routine", "test", "Does nothing at all.", ("haunt",))
    assert data_problems([*cases, ghost]) == ["numbers: ghost_routine is not defined there"]


def test_recall_and_mrr_on_a_hand_checked_case() -> None:
    answer = [("a.py", "f"), ("a.py", "g"), ("b.py", "f")]
    assert rank_of(answer, "b.py", "f") == 3
    assert rank_of(answer, "b.py", "g") is None
    ranks = [1, 3, None, 6]
    s = score(ranks, k=5)
    assert (s.queries, s.found, s.k) == (4, 3, 5)
    assert s.recall_at_k == 0.5  # ranks 1 and 3
    assert s.mrr == pytest.approx((1 + 1 / 3 + 0 + 1 / 6) / 4)
    assert score([], k=5).recall_at_k == 0.0


def test_every_description_gloss_passes_the_quality_gate() -> None:
    cases = {(c.path, c.function): c for c in load_cases()}
    checked = 0
    for group in groups_of(cases.values()):
        path = f"src/{group}.py"
        for span in extract_spans(path, source_of(group)):
            description = cases[(path, span.qualname)].description
            answer = described_gloss(span.qualname, span.signature, description)
            gloss = parse_gloss(json.dumps(answer))
            check_quality(gloss, span)  # raises GlossRejected naming the check
            assert gloss.summary == description
            checked += 1
    assert checked == len(cases)


def test_the_test_server_answers_a_described_symbol_with_its_description() -> None:
    prompt = "Symbol: tools.add_up\nSignature: def add_up(a, b) -> int:\n\n```python\n```\n"
    body = {"model": "m", "stream": False, "messages": [{"role": "user", "content": prompt}]}
    with LLMServer() as server:
        server.set_descriptions({"tools.add_up": "Sums two integers."})
        described = httpx.post(f"{server.url}/api/chat", json=body, timeout=10).json()
        server.set_descriptions({})
        plain = httpx.post(f"{server.url}/api/chat", json=body, timeout=10).json()
    gloss = json.loads(described["message"]["content"])
    assert gloss == {
        "summary": "Sums two integers.",
        "inputs": ["a", "b"],
        "outputs": ["returns int"],
        "side_effects": [],
        "pitfalls": [],
        "usage_snippet": "add_up(a, b)",
        "tags": [],
    }
    assert "Sums" not in json.loads(plain["message"]["content"])["summary"]


async def test_a_subset_runs_through_gloss_index_and_the_search() -> None:
    report: RetrievalReport = await run_benchmark(
        BenchConfig(groups=("numbers", "dates"), vectors=False)
    )
    assert report.data_problems == []
    assert report.functions == 23 and report.queries == 46
    assert report.index is not None
    assert (report.index.exit_code, report.index.glossed, report.index.spans) == (0, 23, 23)
    assert [r.name for r in report.rankings] == ["name-only", "words", "bare FTS5 OR"]
    assert report.first_by_own_name == [23, 23]  # every function is found by its own name
    for r in report.rankings:
        assert r.scores is not None and len(r.results) == 46
        in_top = sum(1 for x in r.results if x.rank is not None and x.rank <= RECALL_AT)
        assert r.scores.recall_at_k == in_top / 46
        assert r.sharing_a_word is not None and r.sharing_none is not None
        assert r.sharing_a_word.queries + r.sharing_none.queries == 46
    text = format_report(report)
    assert "recall@5" in text and "words" in text


async def test_words_and_vectors_run_with_every_gloss_embedded() -> None:
    report = await run_benchmark(BenchConfig(groups=("structures",), embedder="hashed"))
    vectors = report.rankings[-1]
    assert vectors.name == VECTOR_ROWS["hashed"] == "words+vectors (hashed test device)"
    assert vectors.available and vectors.scores is not None, vectors.reason
    embedded = report.embedding["hashed"]
    assert embedded["vectors"] == embedded["glosses"] == 10
    # Every query was embedded once (and each function's own name, the liveness check).
    assert embedded["texts_embedded_by_search"] == report.queries + report.functions
    assert "not a real embedding model" in format_report(report)


@pytest.mark.skipif(minilm.available() is not None, reason=str(minilm.available()))
async def test_words_and_minilm_vectors_run_on_a_subset() -> None:
    report = await run_benchmark(BenchConfig(groups=("structures",), embedder="minilm"))
    assert [r.name for r in report.rankings] == [
        "name-only",
        "words",
        "bare FTS5 OR",
        "words+vectors (all-MiniLM-L6-v2)",
    ]
    vectors = report.rankings[-1]
    assert vectors.available and vectors.scores is not None, vectors.reason
    assert len(vectors.results) == report.queries == 20
    embedded = report.embedding["minilm"]
    assert embedded["vectors"] == embedded["glosses"] == 10
    assert embedded["texts_embedded_by_search"] == report.queries + report.functions
    assert not [n for n in report.notes if "embedded" in n]  # no query went without vectors
    text = format_report(report)
    assert "words+vectors (all-MiniLM-L6-v2) " in text and "a real embedding model" in text
    assert "test device" not in text  # the hashed row was not asked for


def test_the_embedder_option_names_its_rows() -> None:
    assert BenchConfig().embedders() == ("hashed", "minilm")
    assert BenchConfig(embedder="minilm").embedders() == ("minilm",)
    assert BenchConfig(embedder="both", vectors=False).embedders() == ()
    with pytest.raises(SystemExit):
        main(["--embedder", "word2vec"])
