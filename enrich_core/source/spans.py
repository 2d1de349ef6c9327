"""Cut source into spans: every function, method, class and kin, in any language.

A span is the unit Gloss enriches, caches and shows: its exact LSP range (UTF-16
columns), its qualified name, a one-line signature, its documentation, its text
and a content hash that decides whether an existing gloss is still valid.

One extractor serves every language: what a definition is in each is a
tree-sitter query and a row of `source.languages`, and this module only turns
the query's captures into spans. tree-sitter recovers from syntax errors, so a
file that does not parse still yields every definition the parser can find,
with exact ranges. Where an error swallowed the rest of a file or a class (an
unclosed bracket), `source.recovery` parses it again with the broken lines
blanked, and `cut_spans` says which lines could not be read.

This module must never guess: no regexes over code, no invented names or
docs, and no I/O. It gets a path and a string and returns plain records.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from dataclasses import dataclass, field

from tree_sitter import Node, QueryCursor, Tree

from enrich_core.records.span import OUTLINED_KINDS, Span, SpanKind
from enrich_core.source import grammars, signatures
from enrich_core.source import tree_text as syntax
from enrich_core.source.doc_comments import doc_comment
from enrich_core.source.imports import import_lines
from enrich_core.source.languages import DocStyle, LanguageSpec, language_for_source
from enrich_core.source.recovery import Definition, Unparsed, recover
from enrich_core.source.tree_text import Positions

__all__ = ["Cut", "cut_spans", "extract_spans"]

_NON_SPACE = re.compile(r"\S")

_KINDS: dict[str, SpanKind] = {
    "function": SpanKind.FUNCTION,
    "method": SpanKind.METHOD,
    "class": SpanKind.CLASS,
    "interface": SpanKind.INTERFACE,
    "struct": SpanKind.STRUCT,
    "enum": SpanKind.ENUM,
    "trait": SpanKind.TRAIT,
    "module": SpanKind.MODULE,
}
_FUNCTION_KINDS = frozenset({SpanKind.FUNCTION, SpanKind.METHOD})
_CALLABLE_KINDS = _FUNCTION_KINDS | {SpanKind.ASYNC_FUNCTION, SpanKind.ASYNC_METHOD}


@dataclass(slots=True)
class _Definition:
    """One capture of `@definition.*` or `@scope.*`, before it becomes a span."""

    node: Node
    name: Node
    capture: str  # "function", "class", ... or "scope.type" / "scope.namespace"
    pattern: int
    explicit_container: tuple[str, ...]
    qualname: str = ""
    container: str | None = None
    kind: SpanKind | None = None  # None for scopes, which are not spans
    parent: _Definition | None = None

    @property
    def is_scope(self) -> bool:
        return self.capture.startswith("scope.")

    @property
    def holds_methods(self) -> bool:
        """Whether a function directly inside is a method."""
        return self.capture == "scope.type" or (self.kind in OUTLINED_KINDS)


@dataclass(frozen=True, slots=True)
class Cut:
    """A file's spans, and the lines a syntax error kept the parser from reading."""

    spans: list[Span]
    unparsed: tuple[Unparsed, ...] = field(default=())
    # The file's top-level import lines, as written (source.imports).
    imports: tuple[str, ...] = field(default=())


def extract_spans(path: str, source: str, spec: LanguageSpec | None = None) -> list[Span]:
    """Return the spans of ``source`` in source order (a class before its methods).

    ``path`` is stored on each span as given (a workspace-relative POSIX path);
    its suffix picks the language unless ``spec`` is given. A path of no known
    language has no spans.
    """
    return cut_spans(path, source, spec).spans


def cut_spans(path: str, source: str, spec: LanguageSpec | None = None) -> Cut:
    """The spans of ``source`` (as `extract_spans`), and what could not be parsed."""
    spec = spec or language_for_source(path, source)
    if spec is None:
        return Cut([])
    # surrogatepass: editor buffers can carry lone surrogates; they must not make
    # the whole file unparsable, and decoding back restores them unchanged.
    data = source.encode("utf-8", "surrogatepass")
    parser = grammars.parser(spec)
    tree = parser.parse(data)
    positions = Positions(data)
    definitions, parameters = _captures(spec, tree.root_node, data)
    unparsed: tuple[Unparsed, ...] = ()
    if tree.root_node.has_error:
        # Each tree recovery keeps is queried whole once; the trees stay alive
        # while their ids key the cache.
        whole: dict[int, tuple[Tree, list[_Definition], _Parameters | None]] = {
            id(tree): (tree, definitions, parameters)
        }

        def found_in(t: Tree, within: tuple[int, int] | None) -> list[Definition]:
            if within is not None:
                found, _ = _captures(spec, t.root_node, data, within)
            else:
                if id(t) not in whole:
                    whole[id(t)] = (t, *_captures(spec, t.root_node, data))
                found = whole[id(t)][1]
            return [
                (d.node.start_byte, d.node.end_byte, d.node.has_error, d.name.start_byte)
                for d in found
            ]

        recovered = recover(parser, data, tree, positions, found_in, spec.comments)
        if recovered is not None:
            found_in(recovered.tree, None)
            _, definitions, parameters = whole[id(recovered.tree)]
            definitions = [d for d in definitions if _whole(spec, d.node, data, recovered.blanked)]
            unparsed = recovered.unparsed
    _nest(spec, definitions, data)
    spans: list[Span] = []
    for index, definition in enumerate(definitions):
        if definition.kind is None:
            continue
        members = _members(definitions, index) if definition.kind in OUTLINED_KINDS else []
        spans.append(_make_span(spec, path, data, positions, definition, members, parameters))
    return Cut(spans, unparsed, import_lines(spec, tree.root_node, data))


def _whole(
    spec: LanguageSpec, node: Node, data: bytes, blanked: tuple[tuple[int, int], ...]
) -> bool:
    """Whether a definition of the re-parse is clear of the blanked lines, or holds
    them with its code going on after (a C function whose broken statement was
    blanked: its text, cut from the real bytes, is all of it). One whose code
    stops at the blanked lines (a Python `def` whose body was all blanked) would
    be a header without its body: it is no span."""
    end = syntax.last_code_byte(node, spec.comments)
    for start, stop in blanked:
        if node.start_byte >= stop:
            continue
        if node.end_byte <= start:
            if not data[end:start].strip() and _empty_body(spec, node):
                return False  # it stops where the blanked lines begin: they were its body
            continue
        if not (node.start_byte < start and end >= stop):
            return False
    return True


def _empty_body(spec: LanguageSpec, node: Node) -> bool:
    body = _body(node)
    return body is None or not any(c.type not in spec.comments for c in body.named_children)


@dataclass(frozen=True, slots=True)
class _Parameters:
    """Every parameter name the query captured in a file, by position: a function's
    are those in its header, found by bisection (a file like zstd.c has thousands
    of functions, and a scan of all parameters per function was quadratic)."""

    starts: list[int]
    names: list[str]

    def between(self, start: int, end: int) -> frozenset[str]:
        return frozenset(
            self.names[bisect_left(self.starts, start) : bisect_left(self.starts, end)]
        )


def _captures(
    spec: LanguageSpec, root: Node, data: bytes, within: tuple[int, int] | None = None
) -> tuple[list[_Definition], _Parameters | None]:
    """The definitions (source order, each node once) and the parameter names captured.

    When one node matches several definition patterns, the first pattern in the
    query file wins. Parameters are None when the query names none: then they
    cannot be known, which is not the same as a function without parameters.
    """
    query = grammars.query(spec)
    chosen: dict[int, _Definition] = {}
    parameters: list[Node] = []
    cursor = QueryCursor(query)
    if within is not None:
        cursor.set_byte_range(*within)  # only what a re-parse changed (source.recovery)
    for pattern, captures in cursor.matches(root):
        if "parameter" in captures:
            parameters.extend(captures["parameter"])
            continue
        names = captures.get("name")
        if not names or _is_empty(names[0]):
            continue
        for capture, nodes in captures.items():
            if not capture.startswith(("definition.", "scope.")):
                continue
            node = nodes[0]
            if _glued(node, names[0], data):
                continue
            known = chosen.get(node.id)
            if known is not None and known.pattern <= pattern:
                continue
            containers = tuple(_container_name(c, data) for c in captures.get("container", ()))
            chosen[node.id] = _Definition(
                node=node,
                name=names[0],
                capture=capture.removeprefix("definition."),
                pattern=pattern,
                explicit_container=containers,
            )
    definitions = sorted(chosen.values(), key=lambda d: (d.node.start_byte, -d.node.end_byte))
    has_parameters = any(query.capture_name(i) == "parameter" for i in range(query.capture_count))
    if not has_parameters:
        return definitions, None
    parameters.sort(key=lambda n: n.start_byte)
    found = _Parameters(
        [p.start_byte for p in parameters], [syntax.decode(_text(p, data)) for p in parameters]
    )
    return definitions, found


def _is_empty(name: Node) -> bool:
    # A MISSING name is a zero-width node tree-sitter inserted during recovery.
    return name.is_missing or name.start_byte == name.end_byte


def _glued(node: Node, name: Node, data: bytes) -> bool:
    """Whether error recovery glued unrelated code between a definition's start
    and its name (Ruby's `def` of a broken method taking the next method's name):
    its range, signature and text would be other code's, so it is no span.

    Glued code spans lines. An error on the header's own line is a word the
    grammar did not expect, most often a macro (`MEM_STATIC void f(...)`, where
    `void` is the ERROR): the definition is still whole.
    """
    return any(
        c.type == "ERROR" and c.start_byte < name.start_byte and b"\n" in _text(c, data)
        for c in node.children
    )


_TEMPLATE_ARGUMENTS = re.compile(r"<[^<>]*>")


def _container_name(node: Node, data: bytes) -> str:
    """An explicit container as its type's own qualified name would read.

    Template arguments go (`Matrix<T>::at` belongs to `Matrix`, as the methods
    written inside it do); of text that error recovery put before the scope
    (a macro line, `template <...>`, a return type), only the last word is
    the container's.
    """
    text = syntax.decode(_text(node, data))
    while True:
        stripped = _TEMPLATE_ARGUMENTS.sub("", text)
        if stripped == text:
            break
        text = stripped
    words = text.split()
    return words[-1] if words else text


def _text(node: Node, data: bytes) -> bytes:
    return data[node.start_byte : node.end_byte]


def _nest(spec: LanguageSpec, definitions: list[_Definition], data: bytes) -> None:
    """Give each definition its parent, container, qualified name and kind.

    Definitions come sorted by start, outer before inner, so a stack of the
    definitions still open is each one's ancestry. Control-flow blocks are not
    scopes: a def under `if` in a class body is a method.
    """
    open_stack: list[_Definition] = []
    for definition in definitions:
        node = definition.node
        while open_stack and open_stack[-1].node.end_byte <= node.start_byte:
            open_stack.pop()
        parent = open_stack[-1] if open_stack else None
        definition.parent = parent
        outer = [parent.qualname] if parent is not None else []
        container = spec.separator.join([*outer, *definition.explicit_container]) or None
        name = syntax.decode(_text(definition.name, data))
        definition.container = container
        definition.qualname = f"{container}{spec.separator}{name}" if container else name
        if not definition.is_scope:
            kind = _KINDS[definition.capture]
            if kind is SpanKind.FUNCTION and (
                definition.explicit_container or (parent is not None and parent.holds_methods)
            ):
                kind = SpanKind.METHOD
            if kind in _FUNCTION_KINDS and _is_async(_function_of(node), data):
                kind = SpanKind.ASYNC_METHOD if kind is SpanKind.METHOD else SpanKind.ASYNC_FUNCTION
            definition.kind = kind
        open_stack.append(definition)


def _function_of(node: Node) -> Node:
    """The function a definition is or holds: `const f = async () => {...}` is
    async by its arrow function, not by its declarator."""
    body = _body(node)
    return body.parent if body is not None and body.parent is not None else node


def _is_async(node: Node, data: bytes) -> bool:
    for child in node.children:
        if child.type == "async":
            return True
        # Rust's `function_modifiers`, C#'s `modifier`: a keyword among others.
        if "modifier" in child.type and b"async" in _text(child, data).split():
            return True
    return False


def _members(definitions: list[_Definition], index: int) -> list[_Definition]:
    """The functions of a type whose bodies its outline cuts: those inside it that
    are not inside another function (whose body is cut already), nested types' too."""
    owner = definitions[index]
    members: list[_Definition] = []
    for definition in definitions[index + 1 :]:
        if definition.node.start_byte >= owner.node.end_byte:
            break
        if definition.kind not in _CALLABLE_KINDS:
            continue
        ancestor = definition.parent
        while (
            ancestor is not None and ancestor is not owner and ancestor.kind not in _CALLABLE_KINDS
        ):
            ancestor = ancestor.parent
        if ancestor is owner:
            members.append(definition)
    return members


def _outer(spec: LanguageSpec, node: Node) -> tuple[Node, Node]:
    """(the node the span starts at, the node its signature starts at).

    A wrapper (decorators, `export`, `template <...>`) belongs to the definition
    unless it holds others like it (`const a = () => 1, b = ...`, Go's
    `type ( A int; B struct{...} )`).
    """
    outer = signature_start = node
    parent = node.parent
    while parent is not None and parent.type in spec.wrappers:
        if any(c.type == outer.type and c.id != outer.id for c in parent.named_children):
            break
        outer = parent
        if spec.wrappers[parent.type]:
            signature_start = parent
        parent = parent.parent
    return outer, signature_start


def _attributes_start(spec: LanguageSpec, outer: Node) -> int:
    """Where a definition starts with the attributes written right above it
    (Rust's `#[derive(Debug)]`): like decorators, they are part of it."""
    first = outer
    while (above := first.prev_named_sibling) is not None and above.type in spec.between_doc:
        first = above
    return first.start_byte


def _body(node: Node) -> Node | None:
    """The definition's body: its `body` field, or that of the function it holds
    (`const f = () => {...}`: the declarator's value; `obj.f = () => x`: the
    assignment's right side)."""
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    for field_name in ("value", "right", "declarator", "type"):
        child = node.child_by_field_name(field_name)
        if child is not None:
            inner = child.child_by_field_name("body")
            if inner is not None:
                return inner
    return None


def _make_span(
    spec: LanguageSpec,
    path: str,
    data: bytes,
    positions: Positions,
    definition: _Definition,
    members: list[_Definition],
    parameters: _Parameters | None,
) -> Span:
    node, name_node = definition.node, definition.name
    kind = definition.kind
    assert kind is not None  # scopes are skipped by the caller
    outer, signature_start = _outer(spec, node)
    start = _attributes_start(spec, outer)
    # To the wrapper's end: `typedef struct map {...} map;` ends with its name.
    end = syntax.last_code_byte(outer, spec.comments)
    body = _body(node)
    header_end = body.start_byte if body is not None else end
    # A C++ constructor's `: rows_(rows)` is code, not signature.
    header_end = next(
        (c.start_byte for c in node.children if c.type in spec.signature_ends), header_end
    )
    signature, header_end_line = signatures.signature(
        spec, data, positions, signature_start, header_end, body, name_node
    )

    start_line, start_col = positions.at(start)
    end_line, end_col = positions.at(end)
    name_line, name_col = positions.at(name_node.start_byte)
    _, name_end_col = positions.at(name_node.end_byte)
    if kind in OUTLINED_KINDS:
        text = _outline(spec, data, positions, members, start, end)
    else:
        text = syntax.decode(data[start:end])
    if spec.doc is DocStyle.DOCSTRING:
        docstring = syntax.docstring(node, data)
    else:
        docstring = doc_comment(spec, outer, data, positions)
    indent = syntax.decode(data[positions.line_start(start) : start])
    return Span(
        path=path,
        name=syntax.decode(_text(name_node, data)),
        qualname=definition.qualname,
        kind=kind,
        container=definition.container,
        start_line=start_line,
        start_col=start_col,
        end_line=end_line,
        end_col=end_col,
        name_line=name_line,
        name_col=name_col,
        name_end_col=name_end_col,
        header_end_line=name_line if header_end_line is None else header_end_line,
        signature=signature,
        docstring=docstring,
        content_hash=_content_hash(spec, indent, text),
        language=spec.name,
        text=text,
        parameters=_parameter_names(kind, node, header_end, parameters),
    )


def _parameter_names(
    kind: SpanKind, node: Node, header_end: int, parameters: _Parameters | None
) -> frozenset[str] | None:
    """The parameters captured in a function's header (before its body)."""
    if parameters is None or kind not in _CALLABLE_KINDS:
        return None
    return parameters.between(node.start_byte, header_end)


def _outline(
    spec: LanguageSpec,
    data: bytes,
    positions: Positions,
    members: list[_Definition],
    start: int,
    end: int,
) -> str:
    """A type's code with each method's body cut to `...` (Python keeps the docstring).

    Methods are spans of their own with glosses of their own; what a type's
    gloss says comes from its header, docs, fields and method signatures. So its
    text (what the model reads, and what its hash covers) leaves the bodies out:
    editing a method body re-glosses that method, not its type as well, and a
    large type fits a small model's context whole.
    """
    cuts: list[tuple[int, int, bytes]] = []
    for member in members:
        body = _body(member.node)
        if body is None:
            continue
        if spec.doc is DocStyle.DOCSTRING:
            cut = syntax.docstring_body_cut(body, data, positions)
        else:
            cut = _braced_body_cut(body, data, spec)
        if cut is not None:
            cuts.append(cut)
    # No member is inside another's body (see _members), so the cuts are disjoint.
    out = bytearray()
    pos = start
    for cut_start, cut_end, replacement in sorted(cuts):
        out += data[pos:cut_start] + replacement
        pos = min(cut_end, end)  # the span ends at its last code, before trailing comments
    out += data[pos:end]
    return syntax.decode(bytes(out))


def _braced_body_cut(body: Node, data: bytes, spec: LanguageSpec) -> tuple[int, int, bytes] | None:
    """A `{ ... }` block becomes `{ ... }`; a body without braces (Ruby's, an arrow
    function's expression) becomes `...`. An empty body is left as it is."""
    if not any(c.type not in spec.comments for c in body.named_children) and body.child_count:
        return None
    text = _text(body, data)
    if text.startswith(b"{") and text.endswith(b"}"):
        return body.start_byte, body.end_byte, b"{ ... }"
    if body.child_count and body.children[0].type == "=>":
        # C#'s expression body holds its arrow, which says what kind of body was cut.
        return body.children[0].end_byte, body.end_byte, b" ..."
    return body.start_byte, body.end_byte, b"..."


def _content_hash(spec: LanguageSpec, indent: str, text: str) -> str:
    """sha256 of the span's code with its common indentation removed.

    The first line's indentation is restored before dedenting so the span
    dedents as a block: a method moved to module level (or a module-level
    function re-indented) keeps its hash, any other edit changes it. Line
    endings are normalised so that a checkout with CRLF endings does not make
    every span look changed. The language's name comes first, so the same text
    in two languages (`f() {}` is C and C++) never shares a gloss.
    """
    # Anything but whitespace before the span on its first line (`x = 1; def f()`)
    # counts as indentation of the same width.
    prefix = _NON_SPACE.sub(" ", indent)
    normalised = syntax.normalise_newlines(prefix + text)
    dedented = syntax.dedent(normalised)
    tag = spec.name.encode() + b"\0"
    return hashlib.sha256(tag + dedented.encode("utf-8", "surrogatepass")).hexdigest()
