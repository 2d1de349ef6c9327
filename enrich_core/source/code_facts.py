"""Facts read from a span's own code: its calls, side effects, raises and writes.

`facts_of(span)` parses the span's text with its language's grammar and runs
the language's facts query (`languages/queries/<query>-facts.scm`, captures in
`queries/README.md`); what a call or a write means is the language's row in
`languages/effects.py`. Nothing here knows a language: a new one is a query
file and a row of data.

Rules, each needing evidence in the span's text (never a guess):
- a call whose callee matches an effect pattern is that effect (`open(` file);
- a call matching a known raiser raises its exception (`int(` ValueError,
  not direct); a `raise`/`throw`/`panic(` raises what it names (direct); a
  bare re-raise names what the `except` around it caught;
- a write through a parameter (`arg.x =`, `arg[k] +=`, `del arg[k]`, or a
  mutating method `arg.append(`) is an ARGUMENT effect, where the language
  passes the caller's object (Python) or the parameter is shared (Go's
  pointers, slices, maps, channels). A method's writes to its receiver count
  (`self.total +=`, `this.total +=`, Ruby's `@total +=` change the caller's
  object) except in a constructor, whose writes to its own fields are no side
  effect a reader wants listed;
- a write to a name declared `global` or `nonlocal` is a GLOBAL effect. Go's
  package-level variables cannot be told from locals in a span: a bare `n++`
  is no effect, only listed among the writes that may be seen outside.
`complete` says whether an absence can be trusted (the language has facts data
and the text parsed clean); the gate judges claims against absences only then.
Decorators are left out: they run once, when the function is defined.

Effects are kept once per (kind, evidence), raises once per (exception,
evidence), at their first line; lines are the file's, 1-based. Results are
cached by content hash (bounded, least recently used), with lines kept
relative so a span that moved in its file gets its own lines. Pure: no I/O,
and nothing outside the source stage is imported.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from functools import cache

from tree_sitter import Node, QueryCursor

from enrich_core.records.facts import CodeFacts, Effect, EffectKind, Raise
from enrich_core.records.span import Span, SpanKind
from enrich_core.source import grammars
from enrich_core.source.languages import language_named
from enrich_core.source.languages.effects import FactsData, facts_data

__all__ = ["facts_of"]

CACHE_SIZE = 4096
# A callee or write longer than this is shown cut, with an ellipsis.
EVIDENCE_MAX_CHARS = 80
_NO_DATA = FactsData()
_METHOD_KINDS = frozenset({SpanKind.METHOD, SpanKind.ASYNC_METHOD})
_WHITESPACE = re.compile(r"\s+")
_DOTTED = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_POSTFIX = frozenset({"++", "--"})
# Passed over looking for a target's operator: list punctuation, and the `:` of an
# annotation (`self.n: int = 0`), whose type is a named node passed over too.
_LIST_PUNCTUATION = frozenset({",", "(", ")", "[", "]", ":"})
_LEADING_WORD = re.compile(r"[A-Za-z_]\w*(\s*\()?")
# A method called on a plain name path: `items.append`, `self.cache.clear`, C++'s
# `out->push_back`, Ruby's `@items.sort!`.
_METHOD_CALL = re.compile(
    r"([A-Za-z_$@][\w$@]*)(?:(?:\.|->)[A-Za-z_$][\w$]*)*(?:\.|->)([A-Za-z_$][\w$]*[!?]?)"
)
# Separates a container's names: `Ledger.Entry`, `linalg::Matrix`.
_CONTAINER_SEPARATOR = re.compile(r"\.|::")


def facts_of(span: Span) -> CodeFacts:
    """What the span's code calls, touches, writes and raises (see the module doc)."""
    key = (span.content_hash, span.language)
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
    if found is None:
        found = _facts(span)
        with _LOCK:
            _CACHE[key] = found
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
    return _rebased(found, span.start_line + 1)


_CACHE: OrderedDict[tuple[str, str], CodeFacts] = OrderedDict()
_LOCK = threading.Lock()


def _rebased(facts: CodeFacts, first_line: int) -> CodeFacts:
    """Relative rows (0-based, within the span) as the file's 1-based lines."""
    return facts.moved(first_line)


@dataclass
class _Found:
    """The captures of one span, each node once, in source order."""

    calls: list[Node] = field(default_factory=list)
    # A whole call captured with its `@call.name` (Java, Ruby, PHP): where its callee ends.
    call_ends: dict[int, int] = field(default_factory=dict)
    raises: dict[int, tuple[Node, Node | None]] = field(default_factory=dict)
    caught: list[tuple[Node, Node]] = field(default_factory=list)
    assigns: list[tuple[Node, bool]] = field(default_factory=list)  # (target, into)
    globals: set[str] = field(default_factory=set)
    # name -> the scopes (node ids, 0 for the span's top) whose declaration names it
    global_scopes: dict[str, set[int]] = field(default_factory=dict)
    accesses: list[Node] = field(default_factory=list)
    shared: set[str] = field(default_factory=set)


def _facts(span: Span) -> CodeFacts:
    parameters = _ordered_parameters(span)
    spec = language_named(span.language)
    query = grammars.facts_query(spec) if spec is not None else None
    if spec is None or query is None:
        return CodeFacts((), (), (), parameters)
    data = facts_data(spec.name) or _NO_DATA
    before, after = data.member_wrapper if span.kind in _METHOD_KINDS else data.wrapper
    text = before + _restored(span.text, span.start_col) + after
    source = text.encode("utf-8")
    tree = grammars.parser(spec).parse(source)
    found = _captures(QueryCursor(query).matches(tree.root_node), source, data)
    reader = _Reader(span, data, found, source, parameters)
    facts = reader.facts()
    # Rows count from the span's first line, not from the wrapper's.
    facts = _rebased(facts, -before.count("\n")) if before else facts
    return replace(facts, complete=not tree.root_node.has_error)


def _restored(text: str, start_col: int) -> str:
    """The span's text as a whole program: a method's body lines lose the indent its
    first line lost when the span was cut (a Python body must be indented once).
    A line less indented than the span (inside a multi-line string) is kept."""
    if start_col == 0:
        return text
    lines = text.split("\n")
    for index in range(1, len(lines)):
        head = lines[index][:start_col]
        if len(head) == start_col and not head.strip():
            lines[index] = lines[index][start_col:]
    return "\n".join(lines)


def _ordered_parameters(span: Span) -> tuple[str, ...] | None:
    """The span's parameters in the order its signature writes them."""
    if span.parameters is None:
        return None

    def position(name: str) -> tuple[int, str]:
        # PHP's parameters are named without the `$` its signature writes.
        m = re.search(rf"(?<![\w$])\$?{re.escape(name)}(?![\w$])", span.signature)
        return (m.start() if m else len(span.signature), name)

    return tuple(sorted(span.parameters, key=position))


def _captures(
    matches: list[tuple[int, dict[str, list[Node]]]], source: bytes, data: FactsData
) -> _Found:
    found = _Found()
    for _pattern, captures in matches:
        if any(_outside(nodes[0], data) for nodes in captures.values()):
            continue
        for node in captures.get("call", ()):
            found.calls.append(node)
            for name in captures.get("call.name", ()):
                found.call_ends[node.id] = name.end_byte
        for node in captures.get("raise", ()):
            typed = captures.get("raise.type", [None])[0]
            if typed is not None or node.id not in found.raises:
                found.raises[node.id] = (node, typed)
        for clause, typed in zip(
            captures.get("raise.caught", ()), captures.get("raise.caught.type", ()), strict=False
        ):
            found.caught.append((clause, typed))
        found.assigns.extend((node, False) for node in captures.get("assign", ()))
        found.assigns.extend((node, True) for node in captures.get("assign.into", ()))
        for node in captures.get("global", ()):
            declared = _text(node, source)
            found.globals.add(declared)
            found.global_scopes.setdefault(declared, set()).add(_scope(node, data))
        found.accesses.extend(captures.get("access", ()))
        found.shared.update(_text(n, source) for n in captures.get("parameter.shared", ()))
    found.calls = _unique(found.calls)
    found.assigns = list({n.id: (n, into) for n, into in found.assigns}.values())
    found.assigns.sort(key=lambda item: item[0].start_byte)
    found.accesses = _unique(found.accesses)
    return found


def _scope(node: Node, data: FactsData) -> int:
    """The innermost scope around a node (see FactsData.scopes): its node id, or 0."""
    if not data.scopes:
        return 0
    parent = node.parent
    while parent is not None:
        if parent.type in data.scopes:
            return int(parent.id)
        parent = parent.parent
    return 0


def _outside(node: Node, data: FactsData) -> bool:
    if not data.outside:
        return False
    parent = node.parent
    while parent is not None:
        if parent.type in data.outside:
            return True
        parent = parent.parent
    return False


def _unique(nodes: list[Node]) -> list[Node]:
    return sorted({n.id: n for n in nodes}.values(), key=lambda n: n.start_byte)


class _Reader:
    """Turns one span's captures into facts by its language's data."""

    def __init__(
        self,
        span: Span,
        data: FactsData,
        found: _Found,
        source: bytes,
        parameters: tuple[str, ...] | None,
    ) -> None:
        self.data = data
        self.found = found
        self.source = source
        self.parameters = frozenset(parameters or ())
        constructor = span.kind in _METHOD_KINDS and (
            span.name in data.constructors
            # Java, C#, C++: a constructor is named as its class.
            or span.name == _CONTAINER_SEPARATOR.split(span.container or "")[-1]
        )
        # Where the receiver is no parameter (`this`), the pattern that names it; in a
        # method only (a JavaScript function's `this` may be an object it builds).
        self.receiver = (
            re.compile(data.receiver) if data.receiver and span.kind in _METHOD_KINDS else None
        )
        self.receiver_exempt = (
            parameters[0] if parameters and constructor and self.receiver is None else None
        )
        self.receiver_fields_exempt = constructor
        self.effects: dict[tuple[EffectKind, str], Effect] = {}
        self.raises: dict[tuple[str, str], Raise] = {}
        self.writes: dict[str, None] = {}
        # Python: a name assigned bare in the span is local (unless declared global).
        self.locals = (
            {
                _text(n, source)
                for n, into in found.assigns
                if n.type in data.names and not into and not self._declared(_text(n, source), n)
            }
            if data.bare_names_local
            else set()
        )
        self.parameters_list = parameters

    def facts(self) -> CodeFacts:
        calls: dict[str, None] = {}
        for node in self.found.calls:
            end = self.found.call_ends.get(node.id, node.end_byte)
            callee = _callee(self.source[node.start_byte : end].decode("utf-8", "replace"))
            if not callee:
                continue
            calls.setdefault(callee)
            row = node.start_point.row
            kind = _first_match(_call_patterns(self.data), callee)
            if kind is not None:
                self._effect(EffectKind(kind), f"{callee}(", row)
            exception = _first_match(_raiser_patterns(self.data), callee)
            if exception is not None:
                self._raise(exception, f"{callee}(", row, direct=False)
            self._mutator(callee, row, node)
        for node in self.found.accesses:
            if node.parent is not None and node.parent.type == node.type:
                continue  # a prefix of a longer name (`os.environ` of `os.environ.get`)
            name = _callee(_text(node, self.source))
            kind = _first_match(_access_patterns(self.data), name)
            if kind is not None:
                self._effect(EffectKind(kind), name, node.start_point.row)
        for node, into in self.found.assigns:
            self._write(node, into)
        for node, typed in sorted(self.found.raises.values(), key=lambda r: r[0].start_byte):
            self._direct_raise(node, typed)
        effects = sorted(self.effects.values(), key=lambda e: e.line)
        raises = sorted(self.raises.values(), key=lambda r: r.line)
        return CodeFacts(
            effects=tuple(effects),
            raises=tuple(raises),
            calls=tuple(calls),
            parameters=self.parameters_list,
            writes=tuple(self.writes),
        )

    def _effect(self, kind: EffectKind, evidence: str, row: int) -> None:
        self.effects.setdefault((kind, evidence), Effect(kind, evidence, row))

    def _raise(self, exception: str, evidence: str, row: int, *, direct: bool) -> None:
        self.raises.setdefault((exception, evidence), Raise(exception, evidence, row, direct))

    def _direct_raise(self, node: Node, typed: Node | None) -> None:
        text = _text(node, self.source)
        word = _LEADING_WORD.match(text)
        evidence = _WHITESPACE.sub("", word.group(0)) if word else _shown(text)
        if typed is not None:
            exception = _callee(_text(typed, self.source))
        else:
            # Only a bare `raise`/`throw;` re-raises; Ruby's `raise "message"` does not.
            bare = text.strip().rstrip(";").strip() == evidence
            exception = (self._caught_around(node) if bare else "") or self.data.untyped_raise
        self._raise(exception, evidence, node.start_point.row, direct=True)

    def _caught_around(self, node: Node) -> str:
        """What the innermost handler around a bare re-raise caught, or ""."""
        around = [
            (clause, typed)
            for clause, typed in self.found.caught
            if clause.start_byte <= node.start_byte and node.end_byte <= clause.end_byte
        ]
        if not around:
            return ""
        _clause, typed = max(around, key=lambda c: c[0].start_byte)
        return _shown(_text(typed, self.source).strip("()"))

    def _declared(self, name: str, node: Node) -> bool:
        """Whether `name` is declared global/nonlocal in the scope `node` is in."""
        return _scope(node, self.data) in self.found.global_scopes.get(name, ())

    def _mutator(self, callee: str, row: int, node: Node) -> None:
        m = _METHOD_CALL.fullmatch(callee)
        if m is None or m.group(2) not in self.data.mutators:
            return
        self._written(m.group(1), f"{callee}(", row, node)

    def _write(self, target: Node, into: bool) -> None:
        text = _shown(_text(target, self.source))
        operator = _operator(target, self.source)
        if operator.isalpha():
            evidence = f"{operator} {text}"  # `del out[...]`
        elif operator in _POSTFIX:
            prefix = target.prev_sibling is not None and target.prev_sibling.type == operator
            evidence = operator + text if prefix else text + operator  # `++i`, `s.n++`
        else:
            evidence = f"{text} {operator}".strip()
        row = target.start_point.row
        if target.type in self.data.names and not into and not self._is_receiver(text):
            if self._declared(text, target):
                self.writes.setdefault(evidence)
                self._effect(EffectKind.GLOBAL, evidence, row)
            elif not self.data.bare_names_local:
                self.writes.setdefault(evidence)  # Go: may be a package variable, or not
            return
        root = _root_name(target, self.source, self.data.names)
        if root is None:
            self.writes.setdefault(evidence)
            return
        self._written(root, evidence, row, target)

    def _is_receiver(self, name: str) -> bool:
        return self.receiver is not None and self.receiver.fullmatch(name) is not None

    def _written(self, root: str, evidence: str, row: int, node: Node) -> None:
        """A write into the object `root` names: whose object it is decides the effect."""
        receiver = self._is_receiver(root)
        if self._declared(root, node):
            self.writes.setdefault(evidence)
            self._effect(EffectKind.GLOBAL, evidence, row)
        elif receiver or root in self.parameters:
            if not (receiver or self.data.shared_by_default or root in self.found.shared):
                return  # a copy (a Go struct passed by value): nothing outside changes
            self.writes.setdefault(evidence)
            exempt = self.receiver_fields_exempt if receiver else root == self.receiver_exempt
            if not exempt:
                self._effect(EffectKind.ARGUMENT, evidence, row)
        elif root not in self.locals:
            # A name from outside (module state, a loop variable over an argument):
            # a write that may be seen outside, of an object the facts cannot name.
            self.writes.setdefault(evidence)


def _root_name(node: Node, source: bytes, names: frozenset[str]) -> str | None:
    """The name a target is reached through: `self` of `self.items[k]`, `p` of `*p`."""
    current = node
    for _ in range(64):
        if current.type in names:
            return _text(current, source)
        first = current.children[0] if current.children else None
        if first is not None and first.type in names:
            current = first  # a name the grammar leaves unnamed: C#'s `this` in `this.n`
            continue
        named = current.named_children
        if not named:
            return None
        current = named[0]
    return None


def _operator(target: Node, source: bytes) -> str:
    """The keyword before a target (`del`), or the operator after it (`=`, `+=`,
    `++`, `<-`); a target in a list (`a, b.x = ...`) looks past the list."""
    if target.prev_sibling is not None and target.prev_sibling.type in _POSTFIX:
        return target.prev_sibling.type  # a prefix `++i`
    for node in (target, target.parent):
        before = node.prev_sibling if node is not None else None
        if before is not None and before.type == "(":
            before = before.prev_sibling  # PHP's `unset($items[$k])`
        if before is not None and not before.is_named and before.type.isalpha():
            return _text(before, source)
    current = target
    for _ in range(3):
        sibling = current.next_sibling
        while sibling is not None and (sibling.is_named or sibling.type in _LIST_PUNCTUATION):
            sibling = sibling.next_sibling
        if sibling is not None:
            return _text(sibling, source)
        if current.parent is None:
            break
        current = current.parent
    return ""


def _callee(text: str) -> str:
    """A callee as matched and shown: whitespace removed, call arguments dropped
    (`Path(p).read_text` -> `Path().read_text`), cut when very long."""
    flat = _WHITESPACE.sub("", text)
    out: list[str] = []
    depth = 0
    for char in flat:
        if char == "(":
            if depth == 0:
                out.append("()")
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(char)
    callee = "".join(out)
    if not _DOTTED.search(callee):
        return ""  # `(lambda: x)()`: no name to show
    return _shown(callee)


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) > EVIDENCE_MAX_CHARS:
        return flat[: EVIDENCE_MAX_CHARS - 1] + "…"
    return flat


def _text(node: Node, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _first_match(patterns: tuple[tuple[re.Pattern[str], str], ...], name: str) -> str | None:
    for pattern, value in patterns:
        if pattern.fullmatch(name):
            return value
    return None


@cache
def _call_patterns(data: FactsData) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(p), kind) for p, kind in data.calls)


@cache
def _access_patterns(data: FactsData) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(p), kind) for p, kind in data.accesses)


@cache
def _raiser_patterns(data: FactsData) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(p), exception) for p, exception in data.raisers)
