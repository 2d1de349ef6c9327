"""The tree-sitter grammar and definition query of each language in the table.

Grammars are the per-language wheels from PyPI (pinned in pyproject.toml),
imported on first use: most workspaces hold a few languages, and loading all
of them would cost every start-up for nothing. Nothing is downloaded at run
time. A Language wraps an immutable grammar table and a Query is immutable
once compiled, so one of each is shared by all threads; parsers are not
thread-safe, but one costs well under a microsecond, so each parse makes its own.
A language's facts query (`source.code_facts`) is the `-facts.scm` twin of each
of its query files that has one, stacked the same way.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib import resources

from tree_sitter import Language, Parser, Query

from enrich_core.source.languages import LanguageSpec, language_named

__all__ = ["facts_query", "grammar", "parser", "query"]


def parser(spec: LanguageSpec) -> Parser:
    return Parser(grammar(spec))


def grammar(spec: LanguageSpec) -> Language:
    return _grammar(spec.grammar)


def query(spec: LanguageSpec) -> Query:
    return _query(spec.name)


def facts_query(spec: LanguageSpec) -> Query | None:
    """The query of calls, raises and writes (`queries/README.md`); None when the
    language has no facts query yet."""
    return _facts_query(spec.name)


@cache
def _grammar(source: tuple[str, str]) -> Language:
    module_name, function = source
    module = importlib.import_module(module_name)
    return Language(getattr(module, function)())


@cache
def _query(name: str) -> Query:
    spec = language_named(name)
    assert spec is not None, name
    folder = resources.files("enrich_core.source.languages").joinpath("queries")
    text = "\n".join(folder.joinpath(f).read_text("utf-8") for f in spec.queries)
    return Query(grammar(spec), text)


@cache
def _facts_query(name: str) -> Query | None:
    spec = language_named(name)
    assert spec is not None, name
    folder = resources.files("enrich_core.source.languages").joinpath("queries")
    files = [folder.joinpath(f.removesuffix(".scm") + "-facts.scm") for f in spec.queries]
    texts = [f.read_text("utf-8") for f in files if f.is_file()]
    return Query(grammar(spec), "\n".join(texts)) if texts else None
