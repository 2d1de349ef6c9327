"""The quality bench scores what the pipeline really did: answers from the test LLM server
(real HTTP on 127.0.0.1) through the real Engine, judged against hidden docstrings with a
real embedding model (all-MiniLM-L6-v2 in numpy)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from bench.quality import (
    DEFAULT_LIMIT,
    QualityReport,
    Variant,
    ablation_variants,
    choose_cases,
    docstring_variants,
    endpoint,
    main,
    parse_args,
    run_bench,
)
from bench.support import minilm
from bench.support.llm_server import Behavior, LLMServer
from bench.support.quality_scores import Embedder
from bench.support.quality_workspace import (
    CORPUS,
    Case,
    CorpusError,
    DocMode,
    first_sentence,
    load_cases,
    name_words,
    prepare_workspace,
    rewrite_docs,
    shown_and_rest,
    spans_per_file,
)
from enrich_core.records.context import CONTEXT_PARTS
from enrich_core.source.spans import extract_spans

needs_minilm = pytest.mark.skipif(minilm.available() is not None, reason=str(minilm.available()))

SHELF = '''\
import os
from collections import deque


class Shelf:
    """Things kept in order."""

    def __init__(self, path):
        self.path = path
        self.items = deque()

    def put(self, item):
        """Add an item to the end of the shelf. Returns how many items it then holds."""
        self.items.append(item)
        return len(self.items)


def read_lines(path, strip=True):
    """Read a text file and return its lines. Whitespace around each line is removed
    unless strip is false.
    """
    with open(os.fspath(path)) as handle:
        lines = handle.readlines()
    return [line.strip() for line in lines] if strip else lines
'''
COUNT = """\
package count

import "strings"

// CountWords reports how many words the text holds. Runs of spaces
// count as one separator, and leading or trailing spaces count for nothing.
func CountWords(text string) int {
\treturn len(strings.Fields(text))
}
"""
READ_LINES_CODE = "return [line.strip() for line in lines] if strip else lines"


def case(id: str, language: str, path: str, qualname: str, signature: str, doc: str) -> Case:
    doc = textwrap.dedent(doc).strip()
    return Case(id, language, path, qualname, signature, doc, " ".join(doc.split()), "m")


CASES = [
    case("put", "python", "python/shelf.py", "Shelf.put", "def put(self, item)",
         "Add an item to the end of the shelf. Returns how many items it then holds."),
    case("read", "python", "python/shelf.py", "read_lines", "def read_lines(path, strip=True)",
         "Read a text file and return its lines. Whitespace around each line is removed\n"
         "unless strip is false."),
    case("count", "go", "go/count.go", "CountWords", "func CountWords(text string) int",
         "CountWords reports how many words the text holds. Runs of spaces\n"
         "count as one separator, and leading or trailing spaces count for nothing."),
]  # fmt: skip


def make_corpus(root: Path) -> Path:
    """A corpus as bench/support/quality_corpus.py writes one, docstrings left in the
    files (the bench hides them itself)."""
    for rel, text in {"python/shelf.py": SHELF, "go/count.go": COUNT}.items():
        (root / "workspace" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "workspace" / rel).write_text(text)
    (root / "workspace" / "go" / "go.mod").write_text("module count\n")
    cases = [
        {**{f: getattr(c, f) for f in c.__slots__}, "source": "written for this test"}
        for c in CASES
    ]
    (root / "cases.json").write_text(json.dumps(cases))
    return root


@pytest.fixture(scope="module")
def embed() -> Embedder:
    if minilm.available() is not None:
        pytest.skip(str(minilm.available()))
    return minilm.MiniLM.load().embed


async def bench(
    corpus: Path,
    llm: LLMServer,
    embed: Embedder,
    variants: Sequence[Variant] = (Variant("default", None),),
    mode: DocMode = DocMode.HIDDEN,
) -> QualityReport:
    model = endpoint("ollama", llm.url, "quality-model")
    return await run_bench(
        corpus, [model], variants, limit=0, mode=mode, timeout_s=120, embed=embed
    )


# --- scores from real answers -----------------------------------------------------


@needs_minilm
async def test_answers_saying_the_hidden_description_score_near_one_and_beat_the_baseline(
    tmp_path: Path, llm: LLMServer, embed: Embedder
) -> None:
    corpus = make_corpus(tmp_path)
    llm.set_descriptions({c.qualname: c.first_paragraph for c in CASES})
    report = await bench(corpus, llm, embed)
    run = report.runs[0]
    s = run.overall
    assert (s.cases, s.shown, s.beats) == (3, 3, 3)
    assert s.mean_cosine is not None and s.mean_cosine > 0.99
    assert report.baseline.mean_cosine is not None and report.baseline.mean_cosine < 0.9
    assert (s.gate_false, s.gate_true, s.schema_invalid, s.escalated) == (0, 0, 0, 0)
    assert s.first_tier_schema_valid == 3
    assert set(run.by_language) == {"go", "python"} == set(report.baseline_by_language)
    assert run.by_language["go"].cases == 1 and run.by_language["python"].cases == 2
    # Every request reached the server, and the recording proxy kept each answer.
    assert run.requests == len(llm.requests) > 0
    assert sum(len(c.request_s) for c in run.cases) == 3
    assert {c.summary for c in run.cases} == {c.first_paragraph for c in CASES}
    # Claims judged against the facts read from the code: the description names no
    # side effect, so read_lines' open() is a fact it missed, and nothing is unsupported.
    read = next(c for c in run.cases if c.id == "read")
    assert read.claims is not None and read.claims[1] == 0 and read.claims[2] >= 1
    # The model never saw a word of the docstrings it is scored against.
    for request in llm.requests:
        sent = " ".join(json.dumps(request.body).split())
        for c in CASES:
            assert first_sentence(c.docstring)[0][:30] not in sent


@needs_minilm
async def test_garbage_answers_show_no_gloss_and_count_as_losses(
    tmp_path: Path, llm: LLMServer, embed: Embedder
) -> None:
    corpus = make_corpus(tmp_path)
    llm.set_behavior(Behavior(mode="garbage"))
    report = await bench(corpus, llm, embed)
    s = report.runs[0].overall
    assert (s.cases, s.shown, s.beats, s.mean_cosine) == (3, 0, 0, None)
    assert s.schema_invalid == 6  # both tiers answered, and neither answer parsed
    assert (s.gate_false, s.gate_true, s.first_tier_schema_valid, s.escalated) == (0, 0, 0, 3)
    for scored in report.runs[0].cases:
        assert scored.failure is not None and "not_json" in scored.failure
        assert not scored.beats


@needs_minilm
async def test_a_rejected_but_good_answer_is_a_false_rejection_and_filler_a_true_one(
    tmp_path: Path, llm: LLMServer, embed: Embedder
) -> None:
    corpus = make_corpus(tmp_path)
    good = {c.qualname: c.first_paragraph for c in CASES}
    # The right description, with a line of the code copied in: the gate rejects it
    # (copied_code), though its words say what the hidden docstring says.
    good["read_lines"] += f" It runs {READ_LINES_CODE}."
    llm.set_descriptions(good)
    llm.set_behavior(Behavior(mode="filler"), symbol="CountWords")
    report = await bench(corpus, llm, embed)
    run = report.runs[0]
    by_id = {c.id: c for c in run.cases}
    read, count, put = by_id["read"], by_id["count"], by_id["put"]
    assert (read.gate_false, read.gate_true, read.summary, read.beats) == (2, 0, None, False)
    assert [reason for reason, *_ in read.rejected] == ["copied_code", "copied_code"]
    assert all(cosine > read.baseline for _, _, cosine, _ in read.rejected)
    assert (count.gate_false, count.gate_true, count.summary) == (0, 2, None)
    assert [reason for reason, *_ in count.rejected] == ["filler", "filler"]
    assert put.beats and put.gate_false == put.gate_true == 0
    assert (run.overall.gate_false, run.overall.gate_true) == (2, 2)
    assert (run.overall.shown, run.overall.beats, run.overall.escalated) == (1, 1, 2)
    assert (run.by_language["python"].gate_false, run.by_language["go"].gate_true) == (2, 2)


@needs_minilm
async def test_docstring_shown_keeps_the_first_sentence_scores_the_rest_and_toggles_the_part(
    tmp_path: Path, llm: LLMServer, embed: Embedder
) -> None:
    corpus = make_corpus(tmp_path)
    rests = {c.qualname: shown_and_rest(c)[1] for c in CASES}
    llm.set_descriptions(rests)
    variants = docstring_variants(CONTEXT_PARTS)
    assert [v.label for v in variants] == ["docstring off", "docstring on"]
    assert "docstring" not in (variants[0].context or ()) and "docstring" in (
        variants[1].context or ()
    )
    report = await bench(corpus, llm, embed, variants, DocMode.FIRST_SENTENCE)
    assert report.shown_sentence is not None and report.shown_sentence.mean_cosine is not None
    off, on = report.runs
    for run in (off, on):
        assert run.overall.shown == 3 and run.overall.mean_cosine is not None
        assert run.overall.mean_cosine > 0.99  # scored against the rest, which they say
    go_first = first_sentence(CASES[2].docstring)[0]
    go_rest = rests["CountWords"]
    sent = [(r.symbol, " ".join(json.dumps(r.body).split())) for r in llm.requests]
    go_requests = [text for symbol, text in sent if symbol == "CountWords"]
    assert len(go_requests) == 2  # one per variant
    # Go's doc comment is above the function, not in its code: only the part sends it.
    assert go_first not in go_requests[0] and go_first in go_requests[1]
    assert all(go_rest[:30] not in text for _, text in sent)
    assert {c.context for c in off.cases} != {c.context for c in on.cases}


# --- the workspace the model sees -------------------------------------------------------


def test_hiding_removes_each_case_docstring_and_only_theirs() -> None:
    hidden = rewrite_docs("python/shelf.py", SHELF, CASES[:2], DocMode.HIDDEN)
    spans = {s.qualname: s for s in extract_spans("python/shelf.py", hidden)}
    assert spans["Shelf.put"].docstring is None and spans["read_lines"].docstring is None
    assert spans["Shelf"].docstring == "Things kept in order."  # not a case: a reader has it
    assert "return len(self.items)" in spans["Shelf.put"].text
    go = rewrite_docs("go/count.go", COUNT, CASES[2:], DocMode.HIDDEN)
    (count,) = extract_spans("go/count.go", go)
    assert count.docstring is None and "//" not in go


def test_a_docstring_alone_in_its_body_leaves_a_pass() -> None:
    source = 'def f():\n    """Do it. Then stop."""\n'
    only = case("f", "python", "a.py", "f", "def f()", "Do it. Then stop.")
    assert rewrite_docs("a.py", source, [only], DocMode.HIDDEN) == "def f():\n    pass\n"


def test_the_first_sentence_is_written_in_whether_or_not_the_file_had_the_docstring() -> None:
    for text in (SHELF, rewrite_docs("python/shelf.py", SHELF, CASES[:2], DocMode.HIDDEN)):
        shown = rewrite_docs("python/shelf.py", text, CASES[:2], DocMode.FIRST_SENTENCE)
        spans = {s.qualname: s for s in extract_spans("python/shelf.py", shown)}
        assert spans["Shelf.put"].docstring == "Add an item to the end of the shelf."
        assert spans["read_lines"].docstring == "Read a text file and return its lines."
    bare = rewrite_docs("go/count.go", COUNT, CASES[2:], DocMode.HIDDEN)
    shown = rewrite_docs("go/count.go", bare, CASES[2:], DocMode.FIRST_SENTENCE)
    (count,) = extract_spans("go/count.go", shown)
    assert count.docstring == "CountWords reports how many words the text holds."


def test_prepare_checks_every_case_and_names_one_it_cannot_find(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    prepared = prepare_workspace(corpus, CASES, tmp_path / "ws", DocMode.FIRST_SENTENCE)
    assert [p.target for p in prepared] == [shown_and_rest(c)[1] for c in CASES]
    assert (tmp_path / "ws" / "go" / "go.mod").is_file()  # support files come along
    missing = case("gone", "python", "python/shelf.py", "nowhere", "def nowhere()", "A. B.")
    with pytest.raises(CorpusError, match="case gone: no definition nowhere"):
        prepare_workspace(corpus, [missing], tmp_path / "ws2", DocMode.HIDDEN)


def test_the_shipped_corpus_hides_and_shows_every_case(tmp_path: Path) -> None:
    cases = load_cases(CORPUS)
    assert len(cases) >= 100 and {c.language for c in cases} >= {"python", "go"}
    hidden = prepare_workspace(CORPUS, cases, tmp_path / "hidden", DocMode.HIDDEN)
    assert all(p.span.docstring is None and p.target for p in hidden)
    shown = prepare_workspace(CORPUS, cases, tmp_path / "shown", DocMode.FIRST_SENTENCE)
    assert all(p.shown and p.span.docstring for p in shown)


def test_cases_are_taken_in_turn_from_each_language_files_with_fewest_other_spans_first() -> None:
    python = [case(f"p{i}", "python", f"{'ab'[i % 2]}.py", f"f{i}", "def f()", "A. B.")
              for i in range(4)]  # fmt: skip
    go = [case(f"g{i}", "go", "c.go", f"G{i}", "func G()", "A. B.") for i in range(3)]
    spans = {"a.py": 9, "b.py": 2, "c.go": 3}
    chosen = choose_cases([*python, *go], 4, spans)
    assert [c.id for c in chosen] == ["g0", "p1", "g1", "p3"]  # b.py wastes nothing
    assert len(choose_cases([*python, *go], 0, spans)) == 7
    shipped = load_cases(CORPUS)
    default = choose_cases(
        shipped, DEFAULT_LIMIT, spans_per_file(CORPUS, {c.path for c in shipped})
    )
    assert len(default) == DEFAULT_LIMIT and {c.language for c in default} == {"python", "go"}


def test_the_baseline_is_the_names_words_and_the_signature() -> None:
    assert name_words("HTTPServer.load_config") == "http server load config"
    assert name_words("TextWrapper._fix_sentence_endings") == "text wrapper fix sentence endings"
    assert first_sentence("Add it, e.g. twice. Then stop.") == ("Add it, e.g. twice.", "Then stop.")


# --- the command line ----------------------------------------------------------------


@needs_minilm
def test_the_command_runs_the_ablation_and_writes_every_variant(
    tmp_path: Path, llm: LLMServer, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    llm.set_descriptions({c.qualname: c.first_paragraph for c in CASES})
    out = tmp_path / "quality.json"
    argv = ["--no-smollm2", "--ollama", llm.url, "--model", "m", "--corpus", str(corpus),
            "--ablate", "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "baseline: name words + signature" in printed and "python:" in printed
    data = json.loads(out.read_text())
    assert [r["variant"] for r in data["runs"]] == [v.label for v in ablation_variants()]
    assert [r["variant"] for r in data["runs"]] == [
        "none",
        "+imports",
        "+callees",
        "+outline",
        "all",
    ]
    for run in data["runs"]:
        assert run["overall"]["shown"] == 3 and run["overall"]["beats_baseline"] == 3
    none = data["runs"][0]
    assert {c["context"] for c in none["cases"]} == {"none"}
    imports = data["runs"][1]
    assert all(c["context"].startswith("imports") for c in imports["cases"])


def test_bad_command_lines_are_told() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--model", "m"])  # no endpoint before it
    with pytest.raises(SystemExit):
        parse_args(["--openai", "http://127.0.0.1:1/v1"])  # no model for it
    with pytest.raises(SystemExit):
        parse_args(["--context", "imports,everything"])
    openai, ollama = "http://127.0.0.1:1/v1", "http://127.0.0.1:2"
    argv = ["--openai", openai, "--model", "a", "--ollama", ollama, "--model", "b"]
    args = parse_args([*argv, "--context", "none"])
    assert args.endpoints == [["openai", openai, "a"], ["ollama", ollama, "b"]]
    assert args.context == ()
