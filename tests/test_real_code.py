"""The extractor on real code nobody on this team wrote, every language in the table.

The corpora (`bench/support/real_code.py`: pip, npm, rxjs, TanStack, cobra and
x/net, serde_json, the JDK, zstd, CPython's headers, fmt, Python.NET, Rack and
Ruby's standard library, Guzzle and Twig) are cut whole, file by file, with
`extract_spans` and the corpus's language (so fmt's `.h` headers are C++). Every
span must be well formed: a name, a qualified name ending in it, a range inside
the file in LSP terms, a one-line signature, text. Each language must find at
least a floor of spans (a broken query finds none), and a few definitions a
reader would look for first, checked by name.

The corpora are downloaded by `.venv/bin/python -m bench.support.real_code
fetch`; without them these tests are skipped, except in CI (CI=true), where a
skip would hide a broken fetch. Extractor problems the corpora showed are listed
in KNOWN_BUGS, each with a test of its own: while open, marked xfail(strict=True),
so it fails the day the bug is fixed until its entry says so (`fixed=`); once
fixed, it guards against the bug's return.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import pytest

from bench.support.real_code import (
    CORPORA,
    FETCH_COMMAND,
    LANGUAGE_ORDER,
    Corpus,
    CorpusFile,
    corpus_files,
)
from enrich_core.records.span import OUTLINED_KINDS, Span, SpanKind
from enrich_core.source.spans import extract_spans

# LSP's line breaks (as the extractor's Positions counts them), not str.splitlines',
# which also breaks at form feeds and U+2028.
LINE_BREAK = re.compile(r"\r\n|\r|\n")

FUNCTIONS = {SpanKind.FUNCTION, SpanKind.ASYNC_FUNCTION, SpanKind.METHOD, SpanKind.ASYNC_METHOD}
ECMASCRIPT = FUNCTIONS | {SpanKind.CLASS}
TYPESCRIPT = ECMASCRIPT | {SpanKind.INTERFACE, SpanKind.ENUM}
# What each language's query can make: anything else is a kind mixed up.
KINDS: dict[str, set[SpanKind]] = {
    "python": FUNCTIONS | {SpanKind.CLASS},
    "javascript": ECMASCRIPT,
    "typescript": TYPESCRIPT,
    "tsx": TYPESCRIPT,
    "go": {SpanKind.FUNCTION, SpanKind.METHOD, SpanKind.STRUCT, SpanKind.INTERFACE},
    "rust": FUNCTIONS | {SpanKind.STRUCT, SpanKind.ENUM, SpanKind.TRAIT},
    "java": {SpanKind.METHOD, SpanKind.CLASS, SpanKind.INTERFACE, SpanKind.ENUM},
    "c": {SpanKind.FUNCTION, SpanKind.STRUCT, SpanKind.ENUM},
    "cpp": {SpanKind.FUNCTION, SpanKind.METHOD, SpanKind.CLASS, SpanKind.STRUCT, SpanKind.ENUM},
    "csharp": FUNCTIONS | {SpanKind.CLASS, SpanKind.STRUCT, SpanKind.INTERFACE, SpanKind.ENUM},
    "ruby": {SpanKind.FUNCTION, SpanKind.METHOD, SpanKind.CLASS, SpanKind.MODULE},
    "php": {
        SpanKind.FUNCTION, SpanKind.METHOD, SpanKind.CLASS, SpanKind.INTERFACE,
        SpanKind.TRAIT, SpanKind.ENUM,
    },
}  # fmt: skip

# About 80% of what the extractor found when the corpora were chosen (2026-12-05):
# a broken or emptied query falls far below, a refined one stays above.
FLOORS: dict[str, int] = {
    "python": 9_000,  # 11,434 found
    "javascript": 7_500,  # 9,380
    "typescript": 850,  # 1,067
    "tsx": 80,  # 104
    "go": 6_000,  # 7,492
    "rust": 2_300,  # 2,880
    "java": 12_500,  # 15,646
    "c": 1_750,  # 2,214 (1,854 from a570d9f to c69ee37: see KNOWN_BUGS)
    "cpp": 1_400,  # 1,774 (1,379 from a570d9f to c69ee37)
    "csharp": 1_450,  # 1,842 (2,982 until c69ee37 left code-less auto-properties out)
    "ruby": 10_500,  # 13,184
    "php": 1_050,  # 1,321
}

# C++ spells conversion and literal operators with a space: `operator const Char*`,
# `operator"" _a`. That is the function's name, not a cut gone wrong.
CPP_OPERATOR = re.compile(r"operator\b[^\n\r\t]*\S")
# A JavaScript member keyed by a string literal is named by the literal as written
# (`'>'`, `' '`), as editors' outlines show it: the key's own spaces are its name.
QUOTED_KEY = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")


@dataclass(frozen=True, slots=True)
class Known:
    """A definition a reader of the corpus would look up first."""

    corpus: str
    file: str  # the end of the file's path
    qualname: str
    kind: SpanKind


KNOWN: tuple[Known, ...] = (
    Known("pip", "_internal/cli/base_command.py", "Command.main", SpanKind.METHOD),
    Known("pip", "_internal/index/package_finder.py", "PackageFinder.find_best_candidate",
          SpanKind.METHOD),
    Known("pip", "_internal/network/session.py", "PipSession.request", SpanKind.METHOD),
    Known("setuptools", "setuptools/dist.py", "Distribution.run_command", SpanKind.METHOD),
    Known("setuptools", "setuptools/__init__.py", "setup", SpanKind.FUNCTION),
    Known("npm", "semver/classes/semver.js", "SemVer", SpanKind.CLASS),
    Known("npm", "semver/classes/semver.js", "SemVer.compare", SpanKind.METHOD),
    Known("npm", "package/lib/npm.js", "Npm.load", SpanKind.ASYNC_METHOD),
    Known("rxjs", "internal/Observable.ts", "Observable.subscribe", SpanKind.METHOD),
    Known("rxjs", "internal/Subject.ts", "Subject.next", SpanKind.METHOD),
    Known("rxjs", "internal/operators/map.ts", "map", SpanKind.FUNCTION),
    Known("tanstack-ts", "src/fileRoute.ts", "FileRoute", SpanKind.CLASS),
    Known("tanstack-ts", "src/fileRoute.ts", "FileRoute.createRoute", SpanKind.METHOD),
    Known("react-router-tsx", "src/CatchBoundary.tsx", "CatchBoundaryImpl.render",
          SpanKind.METHOD),
    Known("react-router-tsx", "src/Matches.tsx", "useMatchRoute", SpanKind.FUNCTION),
    Known("react-query-tsx", "src/QueryClientProvider.tsx", "QueryClientProvider",
          SpanKind.FUNCTION),
    Known("go", "spf13/cobra/command.go", "Command.Execute", SpanKind.METHOD),
    Known("go", "spf13/cobra/command.go", "Command", SpanKind.STRUCT),
    Known("go", "spf13/pflag/flag.go", "FlagSet.Parse", SpanKind.METHOD),
    Known("go", "spf13/viper/viper.go", "Viper.Get", SpanKind.METHOD),
    Known("go", "x/net/http2/server.go", "Server.ServeConn", SpanKind.METHOD),
    Known("rust", "serde_json-1.0.87/src/value/mod.rs", "Value", SpanKind.ENUM),
    Known("rust", "serde_json-1.0.87/src/map.rs", "Map::insert", SpanKind.METHOD),
    Known("rust", "serde_json-1.0.87/src/de.rs", "from_str", SpanKind.FUNCTION),
    Known("rust", "serde-1.0.152/src/ser/mod.rs", "Serialize", SpanKind.TRAIT),
    Known("rust", "indexmap-1.9.2/src/map.rs", "IndexMap::insert", SpanKind.METHOD),
    Known("jdk", "java/util/ArrayList.java", "ArrayList.add", SpanKind.METHOD),
    Known("jdk", "java/util/HashMap.java", "HashMap.get", SpanKind.METHOD),
    Known("jdk", "java/time/LocalDate.java", "LocalDate.of", SpanKind.METHOD),
    Known("jdk", "java/util/Map.java", "Map", SpanKind.INTERFACE),
    Known("cordova", "org/apache/cordova/CordovaPlugin.java", "CordovaPlugin.execute",
          SpanKind.METHOD),
    Known("zstandard", "zstd/zstd.c", "ZSTD_compress", SpanKind.FUNCTION),
    Known("zstandard", "zstd/zstd.c", "ZSTD_CCtx_s", SpanKind.STRUCT),
    Known("zstandard", "c-ext/compressor.c", "ZstdCompressor_compress", SpanKind.FUNCTION),
    Known("cpython-headers", "python3.11/object.h", "_object", SpanKind.STRUCT),
    Known("cpython-headers", "python3.11/object.h", "Py_INCREF", SpanKind.FUNCTION),
    Known("fmt", "fmt/format.h", "basic_memory_buffer", SpanKind.CLASS),
    Known("fmt", "fmt/core.h", "basic_format_arg", SpanKind.CLASS),
    Known("double-conversion", "double-conversion/bignum.cc",
          "double_conversion::Bignum::AssignUInt64", SpanKind.METHOD),
    Known("double-conversion", "double-conversion/bignum.h", "double_conversion::Bignum",
          SpanKind.CLASS),
    Known("pythonnet", "runtime/PythonEngine.cs", "PythonEngine.Initialize", SpanKind.METHOD),
    Known("pythonnet", "PythonTypes/PyObject.cs", "PyObject", SpanKind.CLASS),
    Known("pythonnet", "PythonTypes/PyObject.cs", "PyObject.GetAttr", SpanKind.METHOD),
    Known("rack", "lib/rack/request.rb", "Rack.Request", SpanKind.CLASS),
    Known("rack", "lib/rack/builder.rb", "Rack.Builder.call", SpanKind.METHOD),
    Known("ruby-stdlib", "3.1.0/set.rb", "Set", SpanKind.CLASS),
    Known("php", "GuzzleHttp/Psr7/Uri.php", "Uri.withPath", SpanKind.METHOD),
    Known("php", "GuzzleHttp/Psr7/MessageTrait.php", "MessageTrait", SpanKind.TRAIT),
    Known("php", "Twig/Environment.php", "Environment.render", SpanKind.METHOD),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Bug:
    """An extractor problem the corpora showed. Open (`fixed` None): its spans are
    left out of the general checks and its own test is xfail(strict). Fixed: the
    same test guards against its return."""

    id: str
    corpus: str
    file: str  # the end of the file's path
    anchor: str  # text on the definition's first line (line numbers drift with updates)
    what: str
    check: Callable[[list[Span], str], None]  # raises while the bug is there
    fixed: str | None = None  # the commit that fixed it


def _crashes_not(spans: list[Span], text: str) -> None:
    """Reached only when extract_spans returned: the crash is gone."""


def _has(qualname: str, kind: SpanKind) -> Callable[[list[Span], str], None]:
    def check(spans: list[Span], text: str) -> None:
        found = [(s.qualname, s.kind) for s in spans if s.qualname == qualname]
        assert (qualname, kind) in found, f"{qualname} {kind}: got {found}"

    return check


def _span_at(anchor: str, kind: SpanKind) -> Callable[[list[Span], str], None]:
    def check(spans: list[Span], text: str) -> None:
        line = _line_of(text, anchor)
        found = [s for s in spans if s.name_line == line]
        assert any(s.kind is kind for s in found), (
            f"no {kind} span named on line {line + 1}: {[(s.qualname, s.kind) for s in found]}"
        )

    return check


def _qualname_one_line(anchor: str) -> Callable[[list[Span], str], None]:
    def check(spans: list[Span], text: str) -> None:
        line = _line_of(text, anchor)
        names = [s.qualname for s in spans if s.name_line == line]
        assert names and not any(LINE_BREAK.search(n) for n in names), names

    return check


KNOWN_BUGS: tuple[Bug, ...] = (
    Bug(
        "arrow-body-leaf-crash", "npm", "lru-cache/dist/esm/index.js", "#isStale = () => false",
        "IndexError in spans._braced_body_cut (`body.children[0]`, added by b7b4f87): a "
        "class field holding an arrow function whose body is a leaf expression "
        "(`#isStale = () => false;`) has a body node with no children; the whole file "
        "fails to cut",
        _crashes_not,
        fixed="c69ee37",
    ),
    Bug(
        "arrow-body-leaf-crash-cjs", "npm", "lru-cache/dist/commonjs/index.js",
        "#isStale = () => false",
        "the same IndexError in the CommonJS build of lru-cache",
        _crashes_not,
        fixed="c69ee37",
    ),
    Bug(
        "js-class-expression", "npm", "@npmcli/agent/lib/agents.js",
        "module.exports = class Agent extends AgentBase {",
        "a named class expression (`module.exports = class Agent extends AgentBase {`, "
        "35 in npm) is no span: its methods have no container (`connect`, not "
        "`Agent.connect`); in the mixin form `module.exports = cls => class X extends "
        "cls {` the arrow is one function span `exports` of ~1,450 lines and the "
        "methods are `exports.buildIdealTree`",
        _has("Agent.connect", SpanKind.ASYNC_METHOD),
        fixed="c69ee37",
    ),
    Bug(
        "rust-impl-for-reference", "rust", "serde_json-1.0.87/src/de.rs",
        "impl<'de, 'a, R: Read<'de>> de::Deserializer<'de> for &'a mut Deserializer<R> {",
        "an impl for a reference type (`impl ... for &'a mut Deserializer<R>`) names no "
        "type: rust.scm's impl_item patterns have no reference_type, so its methods are "
        "free functions (`deserialize_any`, kind function) instead of "
        "`Deserializer::deserialize_any`",
        _has("Deserializer::deserialize_any", SpanKind.METHOD),
        fixed="c69ee37",
    ),
    Bug(
        "cpp-template-specialisation", "fmt", "fmt/chrono.h", "struct formatter<std::tm, Char> {",
        "a class template specialisation (`template <typename Char> struct "
        "formatter<std::tm, Char> {`; 82 in fmt) is no span: its name is a template_type, "
        "and cpp.scm matches only type_identifier names; its members lose their container "
        "(its constructor `formatter()` becomes a free function `formatter`)",
        _span_at("struct formatter<std::tm, Char> {", SpanKind.STRUCT),
        fixed="c69ee37",
    ),
    Bug(
        "cpp-function-specialisation", "fmt", "fmt/color.h",
        "inline void fputs<wchar_t>(const wchar_t* chars, FILE* stream) {",
        "an explicit function template specialisation (`template <> inline void "
        "fputs<wchar_t>(...) {...}`) is no span: its declarator is a template_function",
        _span_at("inline void fputs<wchar_t>(const wchar_t* chars, FILE* stream) {",
                 SpanKind.FUNCTION),
        fixed="c69ee37",
    ),
    Bug(
        "cpp-container-spans-lines", "fmt", "fmt/core.h",
        "basic_format_parse_context<Char, ErrorHandler>::do_check_arg_id(int id) {",
        "after a macro line (`FMT_END_DETAIL_NAMESPACE`), error recovery puts `template "
        "<...>\\nFMT_CONSTEXPR void\\nbasic_format_parse_context<Char, ErrorHandler>` in "
        "the qualified_identifier's scope, and the @container capture takes that text "
        "whole: the qualname holds two line breaks, the signature starts "
        "`FMT_END_DETAIL_NAMESPACE template <...>`",
        _qualname_one_line("basic_format_parse_context<Char, ErrorHandler>::do_check_arg_id("),
        fixed="c69ee37",
    ),
    Bug(
        "c-macro-before-type", "zstandard", "zstd/zstd.c",
        "MEM_STATIC void BIT_addBits(BIT_CStream_t* bitC,",
        "since a570d9f (`_glued`) a function whose return type follows a macro "
        "(`MEM_STATIC void BIT_addBits(...) {`) is no span: tree-sitter reads the macro as "
        "the type and `void` as an ERROR child before the name; 360 of zstd's functions "
        "(C spans 2,214 -> 1,854)",
        _has("BIT_addBits", SpanKind.FUNCTION),
        fixed="c69ee37",
    ),
    Bug(
        "cpp-macro-before-type", "fmt", "fmt/chrono.h",
        "FMT_CONSTEXPR void on_24_hour(numeric_system) {}",
        "the same since a570d9f in C++: `FMT_CONSTEXPR void on_24_hour(numeric_system) {}` "
        "in `struct chrono_format_checker` is no span; 321 of fmt's definitions "
        "(C++ spans 1,690 -> 1,379)",
        _has("chrono_format_checker::on_24_hour", SpanKind.METHOD),
        fixed="c69ee37",
    ),
    Bug(
        "csharp-expression-property", "pythonnet", "PythonTypes/PyObject.cs",
        "public static PyObject None => new (Runtime.PyNone);",
        "an expression-bodied property (`public static PyObject None => new "
        "(Runtime.PyNone);`, 83 in Python.NET) is no span, while an auto-property with no "
        "code (`{ get; set; }`) is one: csharp.scm requires `accessors:`",
        _has("PyObject.None", SpanKind.METHOD),
        fixed="c69ee37",
    ),
)  # fmt: skip

# (file end, anchor) of the spans the known bugs make malformed: left out of the
# general checks, which would otherwise fail on them and on nothing else.
OPEN = [b for b in KNOWN_BUGS if b.fixed is None]
CRASHING = {b.file for b in OPEN if b.check is _crashes_not}
MALFORMED = {(b.file, b.anchor) for b in OPEN if b.id == "cpp-container-spans-lines"}


# --- the corpora, cut once per test session ---------------------------------------


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _line_of(text: str, anchor: str) -> int:
    for number, line in enumerate(LINE_BREAK.split(text)):
        if anchor in line:
            return number
    raise AssertionError(f"{anchor!r} is not in the file: the corpus changed")


def _require(corpora: list[Corpus]) -> None:
    absent = [c.name for c in corpora if not corpus_files(c)]
    if absent:
        message = f"corpora {', '.join(absent)} are absent: run `{FETCH_COMMAND}`"
        if _in_ci():
            pytest.fail(f"CI must run the real-code tests, but {message}")
        pytest.skip(message)


def _corpora(language: str) -> list[Corpus]:
    return [c for c in CORPORA if c.language == language]


@dataclass(frozen=True, slots=True)
class Cut:
    file: CorpusFile
    text: str
    spans: list[Span]


def _read(file: CorpusFile) -> str:
    # As the indexer reads: bytes decoded whole (no newline translation), BOM dropped.
    return file.path.read_bytes().decode("utf-8-sig")


@cache
def _cut(language: str) -> tuple[list[Cut], list[tuple[str, str]]]:
    """Every file of the language's corpora cut: (cuts, (file, error) for each raise)."""
    cuts: list[Cut] = []
    errors: list[tuple[str, str]] = []
    for corpus in _corpora(language):
        for file in corpus_files(corpus):
            text = _read(file)
            try:
                spans = extract_spans(file.rel, text, file.spec)
            except Exception as error:  # every raise is a finding, reported below
                errors.append((file.rel, f"{type(error).__name__}: {error}"))
                continue
            cuts.append(Cut(file, text, spans))
    return cuts, errors


def _is_known(rel: str, ends: set[str]) -> bool:
    return any(rel.endswith(end) for end in ends)


def _malformed_lines(cut: Cut) -> set[int]:
    return {_line_of(cut.text, anchor) for end, anchor in MALFORMED if cut.file.rel.endswith(end)}


def _problems(language: str, cut: Cut) -> Iterator[str]:
    """Everything wrong with one file's spans, one line per problem."""
    lines = LINE_BREAK.split(cut.text)
    widths = [len(line.encode("utf-16-le", "surrogatepass")) // 2 for line in lines]
    skip = _malformed_lines(cut)
    for s in cut.spans:
        where = f"{cut.file.rel}:{s.start_line + 1} {s.kind} {s.qualname!r}"
        if s.name_line in skip:
            continue
        if not s.name:
            yield f"{where}: empty name"
        elif (
            re.search(r"\s", s.name)
            and not (language == "cpp" and CPP_OPERATOR.fullmatch(s.name))
            and not QUOTED_KEY.fullmatch(s.name)
        ):
            yield f"{where}: whitespace in the name {s.name!r}"
        if not s.qualname.endswith(s.name):
            yield f"{where}: qualname does not end with the name {s.name!r}"
        if LINE_BREAK.search(s.qualname):
            yield f"{where}: a line break in the qualname"
        if s.kind not in KINDS[language]:
            yield f"{where}: kind {s.kind} is not one of {language}'s"
        start, name, end = (
            (s.start_line, s.start_col), (s.name_line, s.name_col), (s.end_line, s.end_col),
        )  # fmt: skip
        if not start <= name <= end or s.name_end_col < s.name_col:
            yield f"{where}: name at {name} is outside {start}-{end}"
        if s.end_line >= len(lines):
            yield f"{where}: ends on line {s.end_line}, the file has {len(lines)}"
            continue
        for line, col in ((s.start_line, s.start_col), (s.end_line, s.end_col),
                          (s.name_line, s.name_end_col)):  # fmt: skip
            if col > widths[line]:
                yield f"{where}: column {col} past the end of line {line} ({widths[line]})"
        if not s.start_line <= s.header_end_line <= s.end_line:
            yield f"{where}: header ends on line {s.header_end_line}, outside the span"
        if not s.signature or s.signature != s.signature.strip() or LINE_BREAK.search(s.signature):
            yield f"{where}: signature {s.signature!r} is not one non-empty line"
        if not s.text.strip():
            yield f"{where}: empty text"
        elif s.kind not in OUTLINED_KINDS and LINE_BREAK.sub("\n", s.text) != _slice(lines, s):
            yield f"{where}: text is not the code between its start and end"


def _slice(lines: list[str], s: Span) -> str:
    """The source between a span's LSP start and end, lines joined with \\n."""

    def utf16_cut(line: str, col: int) -> int:
        # A UTF-16 column back to a str index (astral characters are two units).
        units = 0
        for index, char in enumerate(line):
            if units >= col:
                return index
            units += 2 if ord(char) > 0xFFFF else 1
        return len(line)

    if s.start_line == s.end_line:
        line = lines[s.start_line]
        return line[utf16_cut(line, s.start_col) : utf16_cut(line, s.end_col)]
    first = lines[s.start_line][utf16_cut(lines[s.start_line], s.start_col) :]
    last = lines[s.end_line][: utf16_cut(lines[s.end_line], s.end_col)]
    return "\n".join([first, *lines[s.start_line + 1 : s.end_line], last])


# --- the tests ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGE_ORDER)
def test_every_file_cuts_without_an_exception(language: str) -> None:
    _require(_corpora(language))
    cuts, errors = _cut(language)
    unexpected = [(rel, e) for rel, e in errors if not _is_known(rel, CRASHING)]
    assert not unexpected, f"{len(unexpected)} files raised: {unexpected[:10]}"
    assert cuts


@pytest.mark.parametrize("language", LANGUAGE_ORDER)
def test_every_span_is_well_formed(language: str) -> None:
    _require(_corpora(language))
    cuts, _ = _cut(language)
    problems = [p for cut in cuts for p in _problems(language, cut)]
    assert not problems, f"{len(problems)} problems, the first: " + "\n".join(problems[:20])


@pytest.mark.parametrize("language", LANGUAGE_ORDER)
def test_spans_found_reach_the_floor(language: str) -> None:
    _require(_corpora(language))
    cuts, _ = _cut(language)
    found = sum(len(cut.spans) for cut in cuts)
    assert found >= FLOORS[language], (
        f"{language}: {found} spans in {len(cuts)} files, the floor is {FLOORS[language]}"
    )


@pytest.mark.parametrize("known", KNOWN, ids=lambda k: f"{k.corpus}:{k.qualname}")
def test_known_definitions_are_found(known: Known) -> None:
    corpus = next(c for c in CORPORA if c.name == known.corpus)
    _require([corpus])
    cuts, _ = _cut(corpus.language)
    files = [c for c in cuts if c.file.corpus == known.corpus and c.file.rel.endswith(known.file)]
    assert files, f"no file ending {known.file} in {known.corpus}"
    found = [(s.qualname, s.kind) for cut in files for s in cut.spans]
    assert (known.qualname, known.kind) in found, (
        f"{known.qualname} ({known.kind}) not among {len(found)} spans of {known.file}; "
        f"same name: {[f for f in found if f[0].endswith(known.qualname.split('.')[-1])]}"
    )


def _open_bug(bug: Bug) -> list[pytest.MarkDecorator]:
    return [] if bug.fixed else [pytest.mark.xfail(strict=True, reason=bug.what)]


@pytest.mark.parametrize("bug", [pytest.param(b, id=b.id, marks=_open_bug(b)) for b in KNOWN_BUGS])
def test_extractor_problems_found_in_real_code(bug: Bug) -> None:
    corpus = next(c for c in CORPORA if c.name == bug.corpus)
    _require([corpus])
    (file,) = [f for f in corpus_files(corpus) if f.rel.endswith(bug.file)]
    text = _read(file)
    _line_of(text, bug.anchor)  # the corpus still holds the code the bug is about
    bug.check(extract_spans(file.rel, text, file.spec), text)


def test_every_corpus_language_is_in_the_table() -> None:
    # No corpus may name a language the tests above would never reach.
    assert {c.language for c in CORPORA} == set(LANGUAGE_ORDER) == set(KINDS) == set(FLOORS)
