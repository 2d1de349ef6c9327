"""The order a file's spans are glossed in: callees before their callers.

A caller's prompt carries the summaries of the functions it calls that have a
gloss already (run/span_context.py), so within a file the functions a span
calls are glossed first. Only the order inside one file changes: the backlog
still goes file by file, so no locality is lost. Spans with no call between
them keep their source order, and so do the spans of a cycle.

Computed with the file's parse (in the parse workers on a first scan), not on
the event loop that queues the spans. The calls are read cheaply by words, a
name of one of the file's functions followed by `(`, not by parsing each span
again (that would double a scan's parse cost): a wrong edge costs nothing but
order. What a prompt says of a callee is resolved apart, from the calls the
code facts read (source/code_facts.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from enrich_core.records.span import Span, SpanKind

__all__ = ["CALLABLE_KINDS", "gloss_order"]

CALLABLE_KINDS: frozenset[SpanKind] = frozenset(
    {SpanKind.FUNCTION, SpanKind.ASYNC_FUNCTION, SpanKind.METHOD, SpanKind.ASYNC_METHOD}
)

# A name followed by an opening parenthesis: a call in most languages' syntax.
_CALLED_NAME = re.compile(r"(?<![\w$])[A-Za-z_$][\w$]*+(?=\s*+\()")
# With this many names or fewer, looking for each `name(` in a span's text is faster
# than reading every called name out of it (measured on Django's files).
_FEW_NAMES = 50


def gloss_order(spans: Sequence[Span]) -> tuple[int, ...] | None:
    """Indices of one file's spans, each after the file's functions it calls: the
    strongly connected components of the calls in reverse topological order (Tarjan's,
    which finishes a component only after all it reaches), roots and edges taken in
    source order, so unrelated spans and the spans of a cycle keep their source order.
    None when that is source order throughout."""
    by_name: dict[str, list[int]] = {}
    for i, span in enumerate(spans):
        if span.kind in CALLABLE_KINDS:
            by_name.setdefault(span.name, []).append(i)
    if len(spans) < 2 or not by_name:
        return None
    called = _called_names(by_name)

    def callees(i: int) -> Iterator[int]:
        if spans[i].kind not in CALLABLE_KINDS:
            return iter(())
        names = called(spans[i].text)
        return iter(sorted(j for name in names for j in by_name[name] if j != i))

    order = _components_first(len(spans), callees)
    return None if order == list(range(len(spans))) else tuple(order)


def _called_names(by_name: dict[str, list[int]]) -> Callable[[str], list[str]]:
    if len(by_name) <= _FEW_NAMES:
        marked = [(name, name + "(") for name in by_name]
        return lambda text: [name for name, call in marked if call in text]
    return lambda text: [name for name in set(_CALLED_NAME.findall(text)) if name in by_name]


def _components_first(count: int, callees: Callable[[int], Iterator[int]]) -> list[int]:
    """Tarjan's strongly connected components, iteratively (a chain of calls may be
    longer than Python's recursion limit), each component's members in source order."""
    unseen = -1
    index = [unseen] * count
    low = [0] * count
    on_stack = [False] * count
    stack: list[int] = []
    order: list[int] = []
    counter = 0
    for root in range(count):
        if index[root] != unseen:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [(root, callees(root))]
        while work:
            node, pending = work[-1]
            deeper = False
            for j in pending:
                if index[j] == unseen:
                    index[j] = low[j] = counter
                    counter += 1
                    stack.append(j)
                    on_stack[j] = True
                    work.append((j, callees(j)))
                    deeper = True
                    break
                if on_stack[j]:
                    low[node] = min(low[node], index[j])
            if deeper:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[int] = []
                while True:
                    j = stack.pop()
                    on_stack[j] = False
                    component.append(j)
                    if j == node:
                        break
                order.extend(sorted(component))
    return order
