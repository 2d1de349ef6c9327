"""The quality corpus's Go files: pruned to the picked functions, doc comments out.

Used by bench/support/quality_corpus.py (the rules are in its docstring), with
tree-sitter-go as Gloss loads it: keeps the picked functions and methods, the
whole types holding picked methods, the imports and the package-level helpers
they call; removes every doc comment and the package doc; and reads each kept
definition's doc comment and calls for `cases.json`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from tree_sitter import Node

from bench.support.corpus_error import CorpusError
from enrich_core.source import grammars
from enrich_core.source.languages import language_named
from enrich_core.source.spans import cut_spans

__all__ = ["go_calls", "go_docstrings", "go_name", "prune_go"]


def _go_text(node: Node, data: bytes) -> str:
    return data[node.start_byte : node.end_byte].decode("utf-8")


def _go_receiver_type(node: Node, data: bytes) -> str:
    receiver = node.child_by_field_name("receiver")
    assert receiver is not None
    for child in _walk(receiver):
        if child.type == "type_identifier":
            return _go_text(child, data)
    raise CorpusError(f"no receiver type in {_go_text(receiver, data)!r}")


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


def go_name(node: Node, data: bytes) -> str:
    name = node.child_by_field_name("name")
    assert name is not None
    if node.type == "method_declaration":
        return f"{_go_receiver_type(node, data)}.{_go_text(name, data)}"
    return _go_text(name, data)


def _go_declared_names(node: Node, data: bytes) -> set[str]:
    """Names a type/const/var declaration introduces."""
    names: set[str] = set()
    for child in _walk(node):
        if child.type in ("type_spec", "const_spec", "var_spec", "type_alias"):
            for name in child.children_by_field_name("name"):
                names.add(_go_text(name, data))
    return names


def _go_used_names(node: Node, data: bytes) -> set[str]:
    return {
        _go_text(n, data)
        for n in _walk(node)
        if n.type in ("identifier", "type_identifier", "field_identifier")
    }


def go_calls(node: Node, data: bytes, receiver: str | None) -> set[str]:
    """Qualified names this declaration calls: `f(...)`, and `r.m(...)` on its own receiver."""
    receiver_name: str | None = None
    if node.type == "method_declaration":
        parameters = node.child_by_field_name("receiver")
        assert parameters is not None
        for child in _walk(parameters):
            if child.type == "identifier":
                receiver_name = _go_text(child, data)
                break
    calls: set[str] = set()
    for call in _walk(node):
        if call.type != "call_expression":
            continue
        function = call.child_by_field_name("function")
        if function is None:
            continue
        if function.type == "identifier":
            calls.add(_go_text(function, data))
        elif function.type == "selector_expression" and receiver is not None:
            operand = function.child_by_field_name("operand")
            field = function.child_by_field_name("field")
            if operand is not None and field is not None and receiver_name is not None:
                if _go_text(operand, data) == receiver_name:
                    calls.add(f"{receiver}.{_go_text(field, data)}")
    return calls


def _package_doc(children: list[Node]) -> list[int]:
    """Indexes of the comment lines directly above the package clause: its doc comment."""
    package = next(i for i, c in enumerate(children) if c.type == "package_clause")
    doc: list[int] = []
    below = children[package]
    for index in range(package - 1, -1, -1):
        node = children[index]
        if node.type != "comment" or node.end_point[0] + 1 != below.start_point[0]:
            break
        doc.append(index)
        below = node
    return sorted(doc)


def _go_opening_comments(children: list[Node]) -> list[int]:
    """The comments before the package clause that are not its doc: the licence header."""
    package = next(i for i, c in enumerate(children) if c.type == "package_clause")
    doc = set(_package_doc(children))
    return [i for i in range(package) if children[i].type == "comment" and i not in doc]


def prune_go(source: str, picks: Sequence[str], where: str) -> str:
    """The file cut to its package clause, imports, picked declarations, their receiver
    types, the functions and own-receiver methods they call, and the constants and
    variables the kept code names; doc comments removed, the opening licence kept."""
    spec = language_named("go")
    assert spec is not None
    data = source.encode("utf-8")
    root = grammars.parser(spec).parse(data).root_node
    if root.has_error:
        raise CorpusError(f"{where}: does not parse")
    declarations = [c for c in root.children if c.type != "comment"]
    callables = {
        go_name(d, data): d
        for d in declarations
        if d.type in ("function_declaration", "method_declaration")
    }
    kept: set[int] = set()
    for qualname in picks:
        if qualname not in callables:
            raise CorpusError(f"{where}: no function or method {qualname!r}")
        kept.add(callables[qualname].id)
    picked = [callables[q] for q in picks]
    receivers = {q.split(".")[0] for q in picks if "." in q}
    for node in picked:
        receiver = _go_receiver_type(node, data) if node.type == "method_declaration" else None
        for name in go_calls(node, data, receiver):
            if name in callables:
                kept.add(callables[name].id)
    for node in declarations:
        if node.type == "type_declaration" and _go_declared_names(node, data) & receivers:
            kept.add(node.id)
    others = [d for d in declarations if d.type in ("const_declaration", "var_declaration")]
    for _ in range(len(others) + 1):
        named = set().union(*(_go_used_names(d, data) for d in declarations if d.id in kept))
        grown = {d.id for d in others if _go_declared_names(d, data) & named} - kept
        if not grown:
            break
        kept |= grown
    chunks: list[str] = []
    children = root.children
    for index in _go_opening_comments(children):
        chunks.append(_go_text(children[index], data))
    for node in declarations:
        if node.type in ("package_clause", "import_declaration") or node.id in kept:
            chunks.append(_go_text(node, data))
    pruned = _join_go(chunks)
    check = grammars.parser(spec).parse(pruned.encode("utf-8")).root_node
    if check.has_error:
        raise CorpusError(f"{where}: the pruned file does not parse")
    return pruned


def _join_go(chunks: list[str]) -> str:
    out: list[str] = []
    for chunk in chunks:
        if out:
            joined_comment = out[-1].startswith("//") and chunk.startswith("//")
            out.append("\n" if joined_comment else "\n\n")
        out.append(chunk)
    return "".join(out) + "\n"


def go_docstrings(path: str, source: str) -> Iterator[tuple[str, str]]:
    for span in cut_spans(path, source).spans:
        if span.docstring:
            yield span.qualname, span.docstring
    spec = language_named("go")
    assert spec is not None
    data = source.encode("utf-8")
    children = grammars.parser(spec).parse(data).root_node.children
    lines = [_go_text(children[i], data).removeprefix("//").strip() for i in _package_doc(children)]
    if lines:
        yield "<package>", "\n".join(lines)
