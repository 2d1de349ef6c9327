"""The languages Gloss cuts into spans: one row of data each, and its query file.

What a definition is in a language is not code but data: a tree-sitter query
(`queries/<name>.scm`, captures described in `queries/README.md`) and the row
below, which says where the grammar comes from, how the language writes doc
comments, and which nodes wrap a definition. One extractor (`source.spans`)
turns the captures of any row into spans. Adding a language is a grammar
dependency in pyproject.toml, a query file, a row, and a sample test.

This module is plain data that every stage reads (the prompt names the
language, the hover fences code with it, the status counts by it), so it
imports nothing: `source.grammars` loads the grammars and queries it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from pathlib import PurePosixPath

__all__ = [
    "LANGUAGES",
    "SOURCE_SUFFIXES",
    "DocStyle",
    "LanguageSpec",
    "language_for_source",
    "language_named",
]


class DocStyle(Enum):
    """Where a definition's documentation is written, and how it is marked."""

    # The first statement of the body, a string literal (Python's __doc__).
    DOCSTRING = "docstring"
    # A `/** ... */` block right above (JSDoc, Javadoc, PHPDoc).
    STAR_BLOCK = "star_block"
    # `///` lines or a `/** */` block right above (rustdoc, Doxygen).
    SLASH_OR_STAR = "slash_or_star"
    # `///` lines holding XML (C#): the text of its elements.
    XML_SLASH = "xml_slash"
    # Any comment lines right above, no blank line between (Go, C, C++, Ruby).
    ANY_ABOVE = "any_above"


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """One language: its grammar, its query and how its syntax is read."""

    # Stored on every span, counted in `gloss status`, fence tag in hovers.
    name: str
    # Named in prompts.
    title: str
    suffixes: tuple[str, ...]
    # (module, function) giving the grammar pointer, e.g. ("tree_sitter_go", "language").
    grammar: tuple[str, str]
    # Query files in queries/, concatenated (TypeScript stacks JavaScript's under its own).
    queries: tuple[str, ...]
    doc: DocStyle
    # Joins a container and a member in qualified names: `Store.Put`, `Counter::bump`.
    separator: str = "."
    # Node types a definition can sit in that belong to it: decorators, `export`,
    # `template <...>`, Go's `type`, C's `typedef`. The span is the outermost one;
    # the value says whether the signature starts there too (Python's leaves the
    # decorators out, TypeScript's keeps `export`).
    wrappers: dict[str, bool] = field(default_factory=dict)
    # Siblings right above a definition that belong to it (Rust's attributes): the
    # span starts at the first, and a doc comment may sit above them.
    between_doc: frozenset[str] = frozenset()
    # Header nodes where the signature stops though the body has not begun (C++'s
    # member initializer list `: rows_(rows)`).
    signature_ends: frozenset[str] = frozenset()
    # Node types of comments.
    comments: frozenset[str] = frozenset({"comment"})
    # Header tokens left out of the one-line signature when they end it.
    header_trailers: frozenset[str] = frozenset({";"})
    # Starts a line comment: marks the gap in a trimmed view of a span's code.
    line_comment: str = "//"
    # Another row's suffix, and a pattern that makes a file of that suffix this
    # language's when its text matches: C++ headers are `.h` as often as C's are.
    claims: dict[str, str] = field(default_factory=dict)
    # Top-level node types that import another module (`import_from_statement`,
    # `use_declaration`, `#include`): the module's imports a prompt shows a reader.
    imports: frozenset[str] = frozenset()
    # Words a top-level statement starts with when it imports by a call (Ruby's
    # `require`, PHP's `require_once`): the grammar sees only a call there.
    import_words: frozenset[str] = frozenset()
    # Top-level statements whose blocks may hold imports too (Python's `if
    # TYPE_CHECKING:` and `try: import yaml`), looked into a block deep.
    import_blocks: frozenset[str] = frozenset()

    @property
    def fence(self) -> str:
        """The Markdown code-fence tag: every name in the table is one editors know."""
        return self.name


# What C has not and C++ headers show early: templates, namespaces, class
# definitions (not `class X;`), access labels, `std::`, the standard library's suffixless
# headers (`<vector>`). The same kind of evidence GitHub's linguist weighs for `.h`.
_CPP_IN_A_HEADER = (
    r"^[ \t]*(?:template[ \t]*<|namespace[ \t]+[\w:]+[ \t]*(?:\{|$)|class[ \t]+\w+[^;()]*$"
    r"|(?:public|private|protected)[ \t]*:[ \t]*$|#[ \t]*include[ \t]*<[a-z_]+>)|\bstd::\w"
)
# How far into a file the claim is looked for: far enough for a licence header.
_CLAIM_CHARS = 64 * 1024

# `export function f`, `export const f = () => ...`, `exports.f = function ...`:
# the statement documents it.
_ECMASCRIPT_WRAPPERS = {
    "export_statement": True,
    "lexical_declaration": True,
    "variable_declaration": True,
    "expression_statement": True,
}

# ES modules' `import`; CommonJS's `const x = require(...)` is a declaration like any other.
_ECMASCRIPT_IMPORTS = frozenset({"import_statement"})

LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        name="python",
        title="Python",
        suffixes=(".py", ".pyi"),
        grammar=("tree_sitter_python", "language"),
        queries=("python.scm",),
        doc=DocStyle.DOCSTRING,
        wrappers={"decorated_definition": False},
        header_trailers=frozenset({":"}),
        line_comment="#",
        imports=frozenset({"import_statement", "import_from_statement", "future_import_statement"}),
        import_blocks=frozenset({"if_statement", "try_statement"}),
    ),
    LanguageSpec(
        name="javascript",
        title="JavaScript",
        suffixes=(".js", ".mjs", ".cjs", ".jsx"),
        grammar=("tree_sitter_javascript", "language"),
        queries=("javascript.scm", "ecmascript.scm"),
        doc=DocStyle.STAR_BLOCK,
        wrappers=_ECMASCRIPT_WRAPPERS,
        imports=_ECMASCRIPT_IMPORTS,
    ),
    LanguageSpec(
        name="typescript",
        title="TypeScript",
        suffixes=(".ts", ".mts", ".cts"),
        grammar=("tree_sitter_typescript", "language_typescript"),
        queries=("typescript.scm", "ecmascript.scm"),
        doc=DocStyle.STAR_BLOCK,
        wrappers=_ECMASCRIPT_WRAPPERS,
        imports=_ECMASCRIPT_IMPORTS,
    ),
    LanguageSpec(
        name="tsx",
        title="TypeScript (TSX)",
        suffixes=(".tsx",),
        grammar=("tree_sitter_typescript", "language_tsx"),
        queries=("typescript.scm", "ecmascript.scm"),
        doc=DocStyle.STAR_BLOCK,
        wrappers=_ECMASCRIPT_WRAPPERS,
        imports=_ECMASCRIPT_IMPORTS,
    ),
    LanguageSpec(
        name="go",
        title="Go",
        suffixes=(".go",),
        grammar=("tree_sitter_go", "language"),
        queries=("go.scm",),
        doc=DocStyle.ANY_ABOVE,
        wrappers={"type_declaration": True},
        imports=frozenset({"import_declaration"}),
    ),
    LanguageSpec(
        name="rust",
        title="Rust",
        suffixes=(".rs",),
        grammar=("tree_sitter_rust", "language"),
        queries=("rust.scm",),
        doc=DocStyle.SLASH_OR_STAR,
        separator="::",
        between_doc=frozenset({"attribute_item"}),
        comments=frozenset({"line_comment", "block_comment"}),
        imports=frozenset({"use_declaration", "extern_crate_declaration"}),
    ),
    LanguageSpec(
        name="java",
        title="Java",
        suffixes=(".java",),
        grammar=("tree_sitter_java", "language"),
        queries=("java.scm",),
        doc=DocStyle.STAR_BLOCK,
        comments=frozenset({"line_comment", "block_comment"}),
        imports=frozenset({"import_declaration"}),
    ),
    LanguageSpec(
        name="c",
        title="C",
        suffixes=(".c", ".h"),
        grammar=("tree_sitter_c", "language"),
        queries=("c.scm",),
        doc=DocStyle.ANY_ABOVE,
        wrappers={"type_definition": True},
        imports=frozenset({"preproc_include"}),
    ),
    LanguageSpec(
        name="cpp",
        title="C++",
        suffixes=(".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++"),
        grammar=("tree_sitter_cpp", "language"),
        queries=("cpp.scm",),
        doc=DocStyle.ANY_ABOVE,
        separator="::",
        wrappers={"template_declaration": True, "type_definition": True},
        signature_ends=frozenset({"field_initializer_list"}),
        claims={".h": _CPP_IN_A_HEADER},
        imports=frozenset({"preproc_include", "using_declaration"}),
    ),
    LanguageSpec(
        name="csharp",
        title="C#",
        suffixes=(".cs",),
        grammar=("tree_sitter_c_sharp", "language"),
        queries=("csharp.scm",),
        doc=DocStyle.XML_SLASH,
        imports=frozenset({"using_directive"}),
    ),
    LanguageSpec(
        name="ruby",
        title="Ruby",
        suffixes=(".rb",),
        grammar=("tree_sitter_ruby", "language"),
        queries=("ruby.scm",),
        doc=DocStyle.ANY_ABOVE,
        # `def self.build; end`, and the `=` of an endless `def size = @items.size`.
        header_trailers=frozenset({";", "end", "="}),
        line_comment="#",
        import_words=frozenset({"require", "require_relative"}),
    ),
    LanguageSpec(
        name="php",
        title="PHP",
        suffixes=(".php",),
        grammar=("tree_sitter_php", "language_php"),
        queries=("php.scm",),
        doc=DocStyle.STAR_BLOCK,
        imports=frozenset({"namespace_use_declaration"}),
        import_words=frozenset({"require", "require_once", "include", "include_once"}),
    ),
)

_BY_SUFFIX: dict[str, LanguageSpec] = {s: spec for spec in LANGUAGES for s in spec.suffixes}
_BY_NAME: dict[str, LanguageSpec] = {spec.name: spec for spec in LANGUAGES}

SOURCE_SUFFIXES: frozenset[str] = frozenset(_BY_SUFFIX)


def language_for_source(path: str, text: str) -> LanguageSpec | None:
    """The language of a file by its suffix, or of another row that claims the
    suffix and whose pattern the file's text matches (a C++ `.h` header). The
    suffix counts case and all (`.C` is C++ by an old convention, not C; such a
    file is left out rather than guessed)."""
    suffix = PurePosixPath(path).suffix
    for spec, pattern in _claims(suffix):
        if pattern.search(text, 0, _CLAIM_CHARS):
            return spec
    return _BY_SUFFIX.get(suffix)


@cache
def _claims(suffix: str) -> tuple[tuple[LanguageSpec, re.Pattern[str]], ...]:
    return tuple(
        (spec, re.compile(spec.claims[suffix], re.MULTILINE))
        for spec in LANGUAGES
        if suffix in spec.claims
    )


def language_named(name: str) -> LanguageSpec | None:
    return _BY_NAME.get(name)
