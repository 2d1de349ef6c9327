"""The quality corpus's Python files: pruned to the picked functions, docstrings out.

Used by bench/support/quality_corpus.py (the rules are in its docstring): keeps
the picked functions, the whole classes holding picked methods, the imports,
the module-level helpers they call and the constants they read; removes every
docstring; and reads each kept definition's docstring and calls for `cases.json`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence

from bench.support.corpus_error import CorpusError

__all__ = ["prune_python", "python_calls", "python_definitions", "python_docstrings"]


_FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_DefNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _start(node: ast.stmt) -> int:
    """First line (1-based) of a statement, decorators included."""
    if isinstance(node, _DefNode) and node.decorator_list:
        return min(d.lineno for d in node.decorator_list)
    return node.lineno


def _end(node: ast.stmt | ast.expr) -> int:
    assert node.end_lineno is not None
    return node.end_lineno


def _is_import_block(statement: ast.stmt) -> bool:
    """An import, or a try/if whose every branch only imports (an optional C speed-up)."""
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return True
    if isinstance(statement, ast.Try):
        bodies = [statement.body, statement.orelse, statement.finalbody]
        bodies += [handler.body for handler in statement.handlers]
        return all(
            isinstance(s, ast.Import | ast.ImportFrom | ast.Pass) for body in bodies for s in body
        )
    return False


def _called_names(node: ast.AST) -> set[str]:
    return {
        call.func.id
        for call in ast.walk(node)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
    }


def _global_names(node: ast.AST, local: frozenset[str] = frozenset()) -> set[str]:
    """Names read in `node` that are not local to a function around them: the module
    names it uses (a parameter `month` is not the module's `month`)."""
    if isinstance(node, _FunctionNode | ast.Lambda):
        arguments = node.args
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
        stored = {
            n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }
        # `global x` makes x the module's, read or assigned: module state the code uses.
        declared = {name for n in ast.walk(node) if isinstance(n, ast.Global) for name in n.names}
        outside: list[ast.expr] = [*arguments.defaults]
        outside += [d for d in arguments.kw_defaults if d is not None]
        if isinstance(node, _FunctionNode):
            outside += node.decorator_list
        names = declared.union(*(_global_names(n, local) for n in outside))
        inner = local | {a.arg for a in every} | (stored - declared)
        body = node.body if isinstance(node, _FunctionNode) else [node.body]
        return names.union(*(_global_names(n, inner) for n in body))
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ast.Load) and node.id not in local else set()
    return set().union(*(_global_names(child, local) for child in ast.iter_child_nodes(node)))


def _assigned_names(statement: ast.stmt) -> set[str]:
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = list(statement.targets)
    elif isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    names: set[str] = set()
    while targets:
        target = targets.pop()
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            targets.extend(target.elts)
    return names


def _python_keep(tree: ast.Module, picks: Sequence[str], where: str) -> list[ast.stmt]:
    """The top-level statements the pruned module keeps, in source order."""
    functions: dict[str, ast.stmt] = {}
    classes: dict[str, ast.ClassDef] = {}
    for statement in tree.body:
        if isinstance(statement, _FunctionNode):
            if statement.name in functions:
                raise CorpusError(f"{where}: {statement.name} is defined twice at top level")
            functions[statement.name] = statement
        elif isinstance(statement, ast.ClassDef):
            classes[statement.name] = statement
    kept: set[int] = set()
    for qualname in picks:
        top = qualname.split(".")[0]
        node: ast.stmt | None = functions.get(top) or classes.get(top)
        if node is None:
            raise CorpusError(f"{where}: no top-level definition {top!r} for pick {qualname!r}")
        kept.add(id(node))
    picked = [s for s in tree.body if id(s) in kept]
    # Helpers: module-level functions a picked definition calls by name (one level).
    for statement in picked:
        for name in _called_names(statement):
            if name in functions:
                kept.add(id(functions[name]))
    # Constants the kept code names, and the constants those name (bounded by the module).
    assignments = [s for s in tree.body if _assigned_names(s)]
    for _ in range(len(assignments) + 1):
        named = set().union(*(_global_names(s) for s in tree.body if id(s) in kept))
        grown = {id(s) for s in assignments if _assigned_names(s) & named} - kept
        if not grown:
            break
        kept |= grown
    return [s for s in tree.body if id(s) in kept or _is_import_block(s)]


def _docstring_cuts(statements: Iterable[ast.stmt], lines: list[str]) -> dict[int, str | None]:
    """Line index (0-based) -> replacement: None deletes the line, a string replaces it."""
    cuts: dict[int, str | None] = {}
    for statement in statements:
        for node in ast.walk(statement):
            if not isinstance(node, _DefNode) or not _is_docstring(node.body[0]):
                continue
            doc = node.body[0]
            first, last = doc.lineno - 1, _end(doc) - 1
            header_end = max(_end(d) for d in node.decorator_list) if node.decorator_list else 0
            if first <= header_end or lines[first][: doc.col_offset].strip():
                raise CorpusError(f"line {doc.lineno}: docstring shares a line with code")
            after = lines[last][len(lines[last].rstrip()) :]
            if lines[last].rstrip()[doc.end_col_offset :].strip() or after.strip():
                raise CorpusError(f"line {_end(doc)}: code after a docstring on its line")
            for index in range(first, last + 1):
                cuts[index] = None
            if len(node.body) == 1:
                cuts[first] = " " * doc.col_offset + "pass"
            elif last + 1 < len(lines) and not lines[last + 1].strip():
                cuts[last + 1] = None
    return cuts


def _leading_comments(lines: list[str]) -> list[str]:
    """The comment block that opens a file (copyright lines), up to its first blank line."""
    block: list[str] = []
    for line in lines:
        if not line.startswith("#"):
            break
        block.append(line)
    return block


def _separator(previous: ast.stmt | None, statement: ast.stmt) -> str:
    """Blank lines between kept statements: two around a definition (after the file's
    opening comments too), one between the imports and the constants, none within."""
    if previous is None or isinstance(previous, _DefNode) or isinstance(statement, _DefNode):
        return "\n\n"
    return "" if _is_import_block(previous) == _is_import_block(statement) else "\n"


def prune_python(source: str, picks: Sequence[str], where: str) -> str:
    """The module cut to what `_python_keep` keeps, every docstring removed."""
    tree = ast.parse(source)
    lines = source.splitlines()
    kept = _python_keep(tree, picks, where)
    cuts = _docstring_cuts(kept, lines)
    header = _leading_comments(lines)
    pruned = "\n".join(header) + "\n" if header else ""
    previous: ast.stmt | None = None
    for statement in kept:
        text: list[str] = []
        for index in range(_start(statement) - 1, _end(statement)):
            replacement = cuts.get(index, lines[index])
            if replacement is not None:
                text.append(replacement)
        if pruned:
            pruned += _separator(previous, statement)
        pruned += "\n".join(text) + "\n"
        previous = statement
    ast.parse(pruned)
    return pruned


def python_docstrings(source: str) -> Iterator[tuple[str, str]]:
    """(qualified name, docstring) of every documented definition, module included."""
    tree = ast.parse(source)
    module_doc = ast.get_docstring(tree)
    if module_doc:
        yield "<module>", module_doc

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _DefNode):
                qualname = f"{prefix}{child.name}"
                doc = ast.get_docstring(child)
                if doc:
                    yield qualname, doc
                yield from walk(child, qualname + ".")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def python_definitions(tree: ast.Module) -> dict[str, _DefNode]:
    """Qualified name -> definition, the first of each name (as `_one_span` insists on)."""
    found: dict[str, _DefNode] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _DefNode):
                qualname = f"{prefix}{child.name}"
                found.setdefault(qualname, child)
                walk(child, qualname + ".")
            else:
                walk(child, prefix)

    walk(tree, "")
    return found


def python_calls(node: _DefNode, qualname: str, classes: set[str]) -> set[str]:
    """Qualified names a definition calls: `f(...)`, `self.m(...)`/`cls.m(...)` in a
    method of its class, `C(...).m(...)` of a class C of the module."""
    owner = qualname.split(".")[0] if "." in qualname else None
    # Local names bound to an instance made here: `w = TextWrapper(...)`.
    instances = {
        target.id: statement.value.func.id
        for statement in ast.walk(node)
        if isinstance(statement, ast.Assign)
        and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Name)
        and statement.value.func.id in classes
        for target in statement.targets
        if isinstance(target, ast.Name)
    }
    calls: set[str] = set()
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        function = call.func
        if isinstance(function, ast.Name):
            calls.add(function.id)
            if function.id in classes:
                calls.add(f"{function.id}.__init__")
        elif isinstance(function, ast.Attribute):
            target = function.value
            if isinstance(target, ast.Name) and target.id in ("self", "cls") and owner:
                calls.add(f"{owner}.{function.attr}")
            elif isinstance(target, ast.Name) and target.id in instances:
                calls.add(f"{instances[target.id]}.{function.attr}")
            elif (
                isinstance(target, ast.Call)
                and isinstance(target.func, ast.Name)
                and target.func.id in classes
            ):
                calls.add(f"{target.func.id}.{function.attr}")
    calls.discard(qualname)
    return calls
