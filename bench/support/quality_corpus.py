"""Build the quality bench's corpus: documented functions, shown to Gloss without their docs.

Run:  .venv/bin/python -m bench.support.quality_corpus [--cpython-lib DIR] [--go-root DIR]

The quality bench (`bench/quality.py`) scores a gloss against the docstring its
function's author wrote, which the model must not see. This builder reads real,
documented code, picks the functions named in `PYTHON_PICKS` and `GO_PICKS`
(fixed lists: the build is deterministic), and writes
`bench/data/quality/workspace/<language>/<module path>`: each source file
pruned to the picked functions, the whole classes (or Go types) holding picked
methods, the module's imports, the module-level helpers the picked functions
call by name and the module-level constants the kept code names, with every
docstring and doc comment removed. `cases.json` keeps, per picked function,
where it is, its qualified name as Gloss's extractor gives it, and the hidden
docstring. Ordinary comments inside bodies stay: a reader has them. The
pruning itself is per language: bench/support/quality_python.py and quality_go.py.

Sources: CPython 3.11.7's standard library (PSF licence), as pyenv installs it,
and golang.org/x/net 0.7.0 (the Go Authors, BSD-3-Clause) from the Debian 12
package that `bench.support.real_code fetch` unpacks. The SHA-256 of every
source file is recorded in `SOURCES.md` and checked on a rebuild, so a
different CPython or x/net is named rather than silently used.

The build checks, and fails naming the case: at least `MIN_PYTHON` Python and
`MIN_OTHER` Go cases; every hidden docstring has two or more sentences of prose;
every case resolves to exactly one span of the pruned file; every pruned file
parses (Python's `ast`, tree-sitter-go without errors); no docstring's opening
words, and none of its sentences, are left anywhere in the workspace; the
workspace holds at most `MAX_SPANS` spans (the bench glosses them all).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import inspect
import json
import re
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bench.support.corpus_error import CorpusError
from bench.support.quality_go import go_calls, go_docstrings, go_name, prune_go
from bench.support.quality_python import (
    prune_python,
    python_calls,
    python_definitions,
    python_docstrings,
)
from bench.support.real_code import default_cache_dir
from enrich_core.records.span import Span
from enrich_core.source import grammars
from enrich_core.source.languages import language_named
from enrich_core.source.spans import cut_spans

__all__ = [
    "DATA_DIR",
    "GO_PICKS",
    "MAX_SPANS",
    "MIN_OTHER",
    "MIN_PYTHON",
    "PYTHON_PICKS",
    "WORKSPACE",
    "Case",
    "build",
    "first_paragraph",
    "load_cases",
    "sentence_count",
]

DATA_DIR: Final = Path(__file__).resolve().parent.parent / "data" / "quality"
WORKSPACE: Final = DATA_DIR / "workspace"
CASES_FILE: Final = DATA_DIR / "cases.json"
SOURCES_FILE: Final = DATA_DIR / "SOURCES.md"
PSF_LICENCE: Final = "LICENSE-PSF.txt"
GO_LICENCE: Final = "LICENSE-golang-x-net.txt"

MIN_PYTHON: Final = 100
MIN_OTHER: Final = 20
MIN_PYTHON_MODULES: Final = 8
MIN_SENTENCES: Final = 2
# SmolLM2 takes 2-3 s a span on 2 cores; the bench glosses every span.
MAX_SPANS: Final = 200
# A docstring's opening, and each sentence at least this long, must appear
# nowhere in the workspace (whitespace collapsed, case folded).
LEAK_PREFIX: Final = 40
LEAK_SENTENCE_MIN: Final = 30
# A docstring's opening line of at most this many words and no final stop is a title.
TITLE_WORDS: Final = 4

CPYTHON_VERSION: Final = "3.11.7"
DEFAULT_CPYTHON_LIB: Final = Path(f"/root/.pyenv/versions/{CPYTHON_VERSION}/lib/python3.11")
GO_MODULE: Final = "golang.org/x/net"
GO_VERSION: Final = "0.7.0 (Debian 12 package golang-golang-x-net-dev)"
GO_TREE: Final = f"usr/share/gocode/src/{GO_MODULE}"
# The Debian package's copyright file holds x/net's BSD-3-Clause text; the
# corpus fetch keeps only sources, so it is read from an installed copy.
GO_COPYRIGHT: Final = Path("/usr/share/doc/golang-golang-x-net-dev/copyright")

# Module path (under Lib/) -> qualified names, as Gloss's extractor names them.
PYTHON_PICKS: Final[dict[str, tuple[str, ...]]] = {
    "textwrap.py": (
        "TextWrapper._munge_whitespace",
        "TextWrapper._split",
        "TextWrapper._fix_sentence_endings",
        "TextWrapper._wrap_chunks",
        "TextWrapper.wrap",
        "wrap",
        "fill",
        "shorten",
        "dedent",
        "indent",
    ),
    "fnmatch.py": ("fnmatch", "fnmatchcase", "translate"),
    "posixpath.py": ("join", "split", "splitdrive", "expanduser", "expandvars"),
    "heapq.py": ("heapreplace", "merge"),
    "bisect.py": ("insort_right", "bisect_right", "insort_left", "bisect_left"),
    "base64.py": (
        "b64encode",
        "b64decode",
        "standard_b64encode",
        "standard_b64decode",
        "urlsafe_b64encode",
        "urlsafe_b64decode",
        "b16decode",
        "a85encode",
        "a85decode",
        "b85encode",
    ),
    "urllib/parse.py": (
        "urlparse",
        "urlsplit",
        "urlunparse",
        "urlunsplit",
        "urldefrag",
        "unquote",
        "parse_qs",
        "parse_qsl",
        "quote",
        "quote_plus",
        "quote_from_bytes",
        "urlencode",
        "unwrap",
        "clear_cache",
    ),
    "statistics.py": (
        "_sum",
        "_ss",
        "_coerce",
        "_exact_ratio",
        "mean",
        "fmean",
        "geometric_mean",
        "median",
        "median_low",
        "median_high",
        "mode",
        "multimode",
        "variance",
        "pvariance",
        "stdev",
        "pstdev",
        "covariance",
        "correlation",
        "quantiles",
        "harmonic_mean",
    ),
    "calendar.py": (
        "leapdays",
        "Calendar.itermonthdates",
        "Calendar.itermonthdays",
        "Calendar.itermonthdays2",
        "Calendar.itermonthdays3",
        "Calendar.itermonthdays4",
        "Calendar.monthdatescalendar",
        "Calendar.monthdays2calendar",
        "Calendar.monthdayscalendar",
        "Calendar.yeardatescalendar",
        "Calendar.yeardays2calendar",
        "Calendar.yeardayscalendar",
    ),
    "difflib.py": (
        "SequenceMatcher.__init__",
        "SequenceMatcher.set_seq1",
        "SequenceMatcher.set_seq2",
        "SequenceMatcher.find_longest_match",
        "SequenceMatcher.get_matching_blocks",
        "SequenceMatcher.get_opcodes",
        "SequenceMatcher.get_grouped_opcodes",
        "SequenceMatcher.ratio",
        "SequenceMatcher.quick_ratio",
        "SequenceMatcher.real_quick_ratio",
        "get_close_matches",
    ),
    "json/decoder.py": ("py_scanstring", "JSONDecoder.raw_decode"),
    "html/__init__.py": ("escape", "unescape"),
    "functools.py": ("_c3_merge", "_c3_mro", "wraps", "reduce"),
    "string.py": ("capwords",),
    "ipaddress.py": (
        "v4_int_to_packed",
        "v6_int_to_packed",
        "_count_righthand_zero_bits",
        "_find_address_range",
        "get_mixed_type_key",
    ),
    "shutil.py": (
        "copymode",
        "copy",
        "which",
        "get_terminal_size",
        "register_archive_format",
    ),
}

# File path (under golang.org/x/net/) -> qualified names (`Type.Method` for methods).
GO_PICKS: Final[dict[str, tuple[str, ...]]] = {
    "html/escape.go": ("unescapeEntity", "unescape", "EscapeString", "UnescapeString"),
    "html/token.go": (
        "NewTokenizer",
        "NewTokenizerFragment",
        "Tokenizer.Raw",
        "Tokenizer.Text",
        "Tokenizer.TagName",
        "Tokenizer.SetMaxBuf",
        "Tokenizer.AllowCDATA",
        "convertNewlines",
    ),
    "http2/hpack/encode.go": (
        "NewEncoder",
        "Encoder.WriteField",
        "Encoder.searchTable",
        "Encoder.SetMaxDynamicTableSize",
        "Encoder.SetMaxDynamicTableSizeLimit",
        "appendNewName",
        "appendIndexedName",
        "appendHpackString",
        "encodeTypeByte",
    ),
    "http2/hpack/huffman.go": ("HuffmanDecode", "huffmanDecode", "HuffmanEncodeLength"),
    "publicsuffix/list.go": ("PublicSuffix", "find", "EffectiveTLDPlusOne"),
    "proxy/per_host.go": (
        "PerHost.AddFromString",
        "PerHost.AddIP",
        "PerHost.AddNetwork",
        "PerHost.AddZone",
    ),
}

_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Case:
    """One scored function: where Gloss finds it, and the documentation hidden from it."""

    id: str
    language: str
    path: str  # relative to WORKSPACE
    qualname: str
    signature: str
    docstring: str
    first_paragraph: str
    module: str
    source: str
    kind: str  # the span's kind as Gloss cuts it: "function", "method", ...
    # Ids of the cases in the same file this one calls by name (`f(...)`,
    # `self.m(...)`, `Class(...).m(...)`; Go: `f(...)`, `recv.m(...)`), callees
    # whose glosses Gloss may put in this one's prompt.
    callees: tuple[str, ...]

    def to_json(self) -> dict[str, str | list[str]]:
        return {
            "id": self.id,
            "language": self.language,
            "path": self.path,
            "qualname": self.qualname,
            "kind": self.kind,
            "signature": self.signature,
            "docstring": self.docstring,
            "first_paragraph": self.first_paragraph,
            "module": self.module,
            "source": self.source,
            "callees": list(self.callees),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        text = {name: str(data[name]) for name in cls.__slots__ if name != "callees"}
        return cls(**text, callees=tuple(str(c) for c in data["callees"]))


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    """The shipped cases, in corpus order."""
    return [Case.from_json(item) for item in json.loads(path.read_text("utf-8"))]


# -- docstring text ------------------------------------------------------------------------


def _paragraphs(doc: str) -> list[list[str]]:
    paragraphs: list[list[str]] = [[]]
    for line in doc.strip().splitlines():
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def _is_signature(paragraph: list[str], name: str) -> bool:
    """Old-style docstrings open with the call signature (`_split(text : string) -> ...`)."""
    return paragraph[0].startswith(f"{name}(")


def _is_title(paragraph: list[str]) -> bool:
    """A heading line (`Covariance`, `Pearson's correlation coefficient`), not a sentence."""
    line = paragraph[0]
    return len(paragraph) == 1 and len(line.split()) <= TITLE_WORDS and line[-1] not in ".!?:"


def _prose(doc: str, name: str) -> list[list[str]]:
    """The paragraphs that are prose: no leading signature or title, no doctest session."""
    paragraphs = _paragraphs(doc)
    if paragraphs and _is_signature(paragraphs[0], name):
        paragraphs = paragraphs[1:]
    if len(paragraphs) > 1 and _is_title(paragraphs[0]):
        paragraphs = paragraphs[1:]
    return [p for p in paragraphs if not p[0].startswith(">>>")]


def first_paragraph(doc: str, name: str) -> str:
    """The docstring's first paragraph of prose, on one line: what the bench scores against."""
    prose = _prose(doc, name)
    return " ".join(prose[0]) if prose else ""


def sentence_count(doc: str, name: str) -> int:
    """Sentences of prose: ends of sentence followed by a space or the end."""
    prose = " ".join(" ".join(p) for p in _prose(doc, name))
    return len(_SENTENCE_END.findall(prose))


def _normal(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


def _sentences(doc: str) -> list[str]:
    flat = _normal(doc)
    pieces = re.split(r"(?<=[.!?])\s", flat)
    return [p for p in pieces if len(p) >= LEAK_SENTENCE_MIN]


# -- the build -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Source:
    language: str
    origin: Path  # the original file
    relative: str  # path under workspace/
    module: str
    picks: tuple[str, ...]
    label: str  # how `source` names it


def _sources(cpython_lib: Path, go_root: Path) -> list[_Source]:
    sources: list[_Source] = []
    for module_path, picks in PYTHON_PICKS.items():
        module = module_path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        sources.append(
            _Source(
                "python",
                cpython_lib / module_path,
                f"python/{module_path}",
                module,
                picks,
                f"cpython {CPYTHON_VERSION} Lib/{module_path}",
            )
        )
    for file_path, picks in GO_PICKS.items():
        package = f"{GO_MODULE}/{file_path.rsplit('/', 1)[0]}"
        sources.append(
            _Source(
                "go",
                go_root / file_path,
                f"go/{GO_MODULE}/{file_path}",
                package,
                picks,
                f"{GO_MODULE} {GO_VERSION.split(' ')[0]} {file_path}",
            )
        )
    return sources


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _recorded_hashes() -> dict[str, str]:
    """origin label -> SHA-256, from the SOURCES.md table of a previous build."""
    if not SOURCES_FILE.exists():
        return {}
    found = re.findall(
        r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|", SOURCES_FILE.read_text("utf-8"), re.M
    )
    return dict(found)


def _one_span(spans: list[Span], qualname: str, where: str) -> Span:
    matches = [s for s in spans if s.qualname == qualname]
    if len(matches) != 1:
        raise CorpusError(f"{where}: {len(matches)} spans named {qualname!r}, want exactly one")
    return matches[0]


@dataclass(frozen=True, slots=True)
class Built:
    cases: list[Case]
    files: dict[str, str]  # workspace-relative path -> pruned text
    hidden: list[tuple[str, str]]  # (where, docstring) of every removed doc
    spans: int
    hashes: dict[str, str]  # source label -> sha256


def _build_file(source: _Source) -> tuple[str, list[Case], list[tuple[str, str]]]:
    text = source.origin.read_text("utf-8")
    where = source.label
    if source.language == "python":
        pruned = prune_python(text, source.picks, where)
        docs = dict(python_docstrings(text))
        lines = {q: d.lineno for q, d in python_definitions(ast.parse(text)).items()}
        hidden = [(f"{where} {q}", d) for q, d in python_docstrings(text)]
    else:
        pruned = prune_go(text, source.picks, where)
        docs = dict(go_docstrings(source.relative, text))
        lines = {s.qualname: s.name_line + 1 for s in cut_spans(source.relative, text).spans}
        hidden = [(f"{where} {q}", d) for q, d in go_docstrings(source.relative, text)]
    calls = _calls_by_case(source, pruned)
    cut = cut_spans(source.relative, pruned)
    if cut.unparsed:
        raise CorpusError(f"{where}: the pruned file has unreadable lines {cut.unparsed}")
    cases: list[Case] = []
    for qualname in source.picks:
        doc = docs.get(qualname)
        if doc is None:
            raise CorpusError(f"{where}: {qualname} has no documentation")
        doc = inspect.cleandoc(doc)
        name = qualname.rsplit(".", 1)[-1]
        if sentence_count(doc, name) < MIN_SENTENCES:
            raise CorpusError(f"{where}: {qualname}'s documentation has under two sentences")
        span = _one_span(cut.spans, qualname, where)
        cases.append(
            Case(
                id=f"{source.module}:{qualname}",
                language=source.language,
                path=source.relative,
                qualname=qualname,
                signature=span.signature,
                docstring=doc,
                first_paragraph=first_paragraph(doc, name),
                module=source.module,
                source=f"{source.label}:{lines[qualname]}",
                kind=span.kind.value,
                callees=tuple(
                    f"{source.module}:{callee}"
                    for callee in source.picks
                    if callee in calls[qualname]
                ),
            )
        )
    return pruned, cases, hidden


def _calls_by_case(source: _Source, pruned: str) -> dict[str, set[str]]:
    """Picked qualified name -> the qualified names it calls in the pruned file."""
    if source.language == "python":
        tree = ast.parse(pruned)
        definitions = python_definitions(tree)
        classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
        return {q: python_calls(definitions[q], q, classes) for q in source.picks}
    spec = language_named("go")
    assert spec is not None
    data = pruned.encode("utf-8")
    root = grammars.parser(spec).parse(data).root_node
    calls: dict[str, set[str]] = {}
    for node in root.children:
        if node.type in ("function_declaration", "method_declaration"):
            qualname = go_name(node, data)
            receiver = qualname.split(".")[0] if "." in qualname else None
            calls[qualname] = go_calls(node, data, receiver) - {qualname}
    return calls


def collect(cpython_lib: Path, go_root: Path) -> Built:
    """Read the sources and prune them; nothing is written."""
    cases: list[Case] = []
    files: dict[str, str] = {}
    hidden: list[tuple[str, str]] = []
    hashes: dict[str, str] = {}
    spans = 0
    for source in _sources(cpython_lib, go_root):
        if not source.origin.is_file():
            raise CorpusError(f"{source.label}: missing at {source.origin}")
        hashes[source.label] = _sha256(source.origin)
        pruned, file_cases, file_hidden = _build_file(source)
        files[source.relative] = pruned
        cases += file_cases
        hidden += file_hidden
        spans += len(cut_spans(source.relative, pruned).spans)
    return Built(cases, files, hidden, spans, hashes)


def check(built: Built) -> None:
    """The corpus's invariants; raises CorpusError naming the first one broken."""
    by_language: dict[str, int] = {}
    for case in built.cases:
        by_language[case.language] = by_language.get(case.language, 0) + 1
    if by_language.get("python", 0) < MIN_PYTHON:
        raise CorpusError(f"{by_language.get('python', 0)} Python cases, want {MIN_PYTHON}")
    other = sum(n for language, n in by_language.items() if language != "python")
    if other < MIN_OTHER:
        raise CorpusError(f"{other} cases in other languages, want {MIN_OTHER}")
    modules = {c.module for c in built.cases if c.language == "python"}
    if len(modules) < MIN_PYTHON_MODULES:
        raise CorpusError(f"{len(modules)} Python modules, want {MIN_PYTHON_MODULES}")
    ids = [c.id for c in built.cases]
    if len(set(ids)) != len(ids):
        raise CorpusError("two cases share an id")
    if built.spans > MAX_SPANS:
        raise CorpusError(f"the workspace holds {built.spans} spans, at most {MAX_SPANS}")
    for leak in leaks(built.files.values(), built.hidden):
        raise CorpusError(f"documentation left in the workspace: {leak}")


def leaks(texts: Iterable[str], hidden: Iterable[tuple[str, str]]) -> list[str]:
    """Each hidden doc whose opening or a long sentence appears in the texts."""
    workspace = "\n".join(_normal(t) for t in texts)
    found: list[str] = []
    for where, doc in hidden:
        opening = _normal(doc)[:LEAK_PREFIX]
        probes = (
            [opening, *_sentences(doc)] if len(opening) >= LEAK_SENTENCE_MIN else _sentences(doc)
        )
        for probe in probes:
            if probe in workspace:
                found.append(f"{where}: {probe!r}")
                break
    return found


def write(built: Built, cpython_lib: Path) -> None:
    if WORKSPACE.exists():
        shutil.rmtree(WORKSPACE)
    for relative, text in built.files.items():
        target = WORKSPACE / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")
    payload = [c.to_json() for c in built.cases]
    CASES_FILE.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", "utf-8")
    shutil.copyfile(cpython_lib / "LICENSE.txt", DATA_DIR / PSF_LICENCE)
    if GO_COPYRIGHT.is_file():
        shutil.copyfile(GO_COPYRIGHT, DATA_DIR / GO_LICENCE)
    elif not (DATA_DIR / GO_LICENCE).is_file():
        raise CorpusError(f"x/net's licence: neither {GO_COPYRIGHT} nor {GO_LICENCE} exists")
    SOURCES_FILE.write_text(_sources_text(built), "utf-8")


def _sources_text(built: Built) -> str:
    counts: dict[str, int] = {}
    for case in built.cases:
        counts[case.path] = counts.get(case.path, 0) + 1
    rows = "\n".join(f"| `{label}` | `{digest}` |" for label, digest in built.hashes.items())
    return f"""# The quality bench's corpus: where it comes from

Built by `bench/support/quality_corpus.py`; rebuild with
`.venv/bin/python -m bench.support.quality_corpus` (it needs CPython {CPYTHON_VERSION}'s
`Lib/`, by default `{DEFAULT_CPYTHON_LIB}`, and the Go corpus that
`.venv/bin/python -m bench.support.real_code fetch` unpacks). The picks are a fixed list
in the builder, so a rebuild writes the same files.

- `workspace/python/`: modules of the CPython {CPYTHON_VERSION} standard library,
  Copyright (c) 2001-2023 Python Software Foundation, under the PSF License Agreement
  (`{PSF_LICENCE}`, CPython's `LICENSE.txt`).
- `workspace/go/{GO_MODULE}/`: files of {GO_MODULE} {GO_VERSION},
  Copyright The Go Authors, BSD-3-Clause (`{GO_LICENCE}`, the Debian package's
  copyright file, which holds the licence text).

Each file is pruned to the functions the bench scores, the classes (Go: types) holding
picked methods, whole, the module's imports, the module-level helpers the picked
functions call by name and the constants the kept code names. Every docstring and doc
comment is removed (a Python body left empty gets `pass`); comments inside bodies stay.
`cases.json` holds, per scored function, where it is (`path` under `workspace/`,
`qualname` and `kind` as Gloss's extractor gives them, `signature`), the hidden
documentation (`docstring`, cleaned of comment markers, and its `first_paragraph` of
prose), `module`, `source` (original file and line) and `callees` (the ids of the cases
it calls in its file). {len(built.cases)} cases, {built.spans} spans in the workspace.

| source | SHA-256 of the original file |
|---|---|
{rows}
"""


def build(cpython_lib: Path = DEFAULT_CPYTHON_LIB, go_root: Path | None = None) -> Built:
    """Collect, check against the recorded source hashes and the invariants, write."""
    go_root = go_root or default_cache_dir() / "debian-go" / GO_TREE
    built = collect(cpython_lib, go_root)
    for label, digest in _recorded_hashes().items():
        if built.hashes.get(label, digest) != digest:
            raise CorpusError(
                f"{label} differs from the file the corpus was built from "
                f"(to build from it on purpose, delete {SOURCES_FILE})"
            )
    check(built)
    write(built, cpython_lib)
    return built


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--cpython-lib", type=Path, default=DEFAULT_CPYTHON_LIB)
    parser.add_argument("--go-root", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        built = build(args.cpython_lib, args.go_root)
    except (CorpusError, OSError) as error:
        print(f"quality corpus: {error}", file=sys.stderr)
        return 1
    languages: dict[str, int] = {}
    for case in built.cases:
        languages[case.language] = languages.get(case.language, 0) + 1
    summary = ", ".join(f"{n} {language}" for language, n in sorted(languages.items()))
    print(f"quality corpus: {len(built.cases)} cases ({summary}), {built.spans} spans, {DATA_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
