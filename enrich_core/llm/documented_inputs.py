"""The inputs a span declares or documents: what its gloss's inputs list may name.

A function's inputs are its parameters and, where its docstring documents
more (the keyword arguments `**kwargs` takes: `requests.request(method, url,
**kwargs)` documents fifteen), those names too. Documented names are read
from the common conventions only: Sphinx fields (`:param name:`), JSDoc /
Javadoc / PHPDoc tags (`@param name`), Google sections (`Args:` then
`name (type): ...`) and NumPy sections (`Parameters` underlined, then
`name : type`). Anything else documents nothing here: the count falls back
to the parameters, never to a guess.
"""

from __future__ import annotations

import re

from enrich_core.records.span import OUTLINED_KINDS, Span

__all__ = ["documented_parameters", "input_count"]

_SPHINX = re.compile(
    r"^\s*:(?:param|parameter|arg|argument|key|keyword|kwarg|kwparam)\s+"
    r"(?:[^:]*?\s)?\**([A-Za-z_]\w*)\s*:",
    re.MULTILINE,
)
# `@param name`, `@param {type} [name]`, PHP's `@param type $name`.
_AT_PARAM = re.compile(r"@param\s+(?:\{[^}\n]*\}\s*)?(?:[^\s$]+\s+(?=\$))?\[?\$?([A-Za-z_]\w*)")
_GOOGLE_HEADER = re.compile(
    r"^(\s*)(?:Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Kwargs|"
    r"Other Parameters):\s*$"
)
_GOOGLE_ENTRY = re.compile(r"^\**([A-Za-z_]\w*)\s*(?:\([^)\n]*\))?\s*:")
_NUMPY_HEADER = re.compile(r"^\s*(?:Parameters|Other Parameters|Keyword Arguments)\s*$")
# A method's receiver is no input a gloss lists (the gate's check skips it too).
_RECEIVERS = frozenset({"self", "cls"})
_NUMPY_RULE = re.compile(r"^\s*-{3,}\s*$")
_NUMPY_ENTRY = re.compile(r"^\**([A-Za-z_]\w*)(?:\s*,\s*\**[A-Za-z_]\w*)*\s*(?::|$)")


def documented_parameters(docstring: str | None) -> frozenset[str]:
    """The parameter names `docstring` documents by a common convention."""
    if not docstring:
        return frozenset()
    names = set(_SPHINX.findall(docstring)) | set(_AT_PARAM.findall(docstring))
    lines = docstring.splitlines()
    names.update(_google_names(lines))
    names.update(_numpy_names(lines))
    return frozenset(names)


def input_count(span: Span) -> int | None:
    """How many inputs the span has: its parameters and the names its docstring documents;
    None when neither is known (a type without documented parameters, a language whose
    query names no parameters). `records.gloss.list_limits` sizes the inputs list by it."""
    parameters = None if span.kind in OUTLINED_KINDS else span.parameters
    documented = documented_parameters(span.docstring)
    if parameters is None and not documented:
        return None
    stripped = {p.lstrip("*$&") for p in parameters or ()} - _RECEIVERS
    return len(stripped | documented)


def _google_names(lines: list[str]) -> set[str]:
    """Entries of `Args:` sections: the lines one level deeper than the header."""
    names: set[str] = set()
    header_indent: int | None = None
    entry_indent: int | None = None
    for line in lines:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        header = _GOOGLE_HEADER.match(line)
        if header:
            header_indent, entry_indent = len(header.group(1)), None
            continue
        if header_indent is None:
            continue
        if indent <= header_indent:
            header_indent = None  # the section ended
            continue
        if entry_indent is None:
            entry_indent = indent
        if indent == entry_indent and (entry := _GOOGLE_ENTRY.match(line.strip())):
            names.add(entry.group(1))
    return names


def _numpy_names(lines: list[str]) -> set[str]:
    """Entries of underlined `Parameters` sections: `name : type` at the header's indent."""
    names: set[str] = set()
    at = 0
    while at < len(lines) - 1:
        if not (_NUMPY_HEADER.match(lines[at]) and _NUMPY_RULE.match(lines[at + 1])):
            at += 1
            continue
        indent = len(lines[at]) - len(lines[at].lstrip())
        at += 2
        while at < len(lines):
            line = lines[at]
            if line.strip() and at + 1 < len(lines) and _NUMPY_RULE.match(lines[at + 1]):
                break  # the next section's header
            entry = line.strip()
            if len(line) - len(line.lstrip()) == indent and _NUMPY_ENTRY.match(entry):
                names.update(re.findall(r"[A-Za-z_]\w*", entry.split(":")[0]))
            at += 1
    return names
