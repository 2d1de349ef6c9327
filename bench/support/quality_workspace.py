"""The quality bench's corpus, and the workspace a model sees of it: docstrings hidden.

The corpus (`bench/data/quality`, built by bench/support/quality_corpus.py) is a
workspace of source files and `cases.json`, one entry per documented function or
method: where it is (path, qualname), its language, signature, docstring and the
docstring's first paragraph (what a summary is scored against).

`prepare_workspace` copies the files that hold the chosen cases into a fresh
directory and rewrites each case's documentation there, through the file's
tree-sitter tree: removed (`DocMode.HIDDEN`: the model sees no word of it), or
cut to its first sentence (`DocMode.FIRST_SENTENCE`: the model should add what
that sentence does not say). Whether the corpus files hold the docstrings or not,
the result is the same; each rewrite is checked by cutting the file's spans again,
and a case whose documentation could not be rewritten is an error naming it,
never a silent leak of the answer into the prompt. Other definitions in the
files keep their documentation: a reader has it too.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from tree_sitter import Node

from enrich_core.records.span import Span
from enrich_core.source.grammars import parser
from enrich_core.source.languages import DocStyle, LanguageSpec, language_for_source
from enrich_core.source.spans import extract_spans

__all__ = [
    "CASE_FIELDS",
    "CORPUS",
    "Case",
    "CorpusError",
    "DocMode",
    "PreparedCase",
    "first_sentence",
    "load_cases",
    "name_words",
    "prepare_workspace",
    "shown_and_rest",
    "spans_per_file",
]

CORPUS = Path(__file__).resolve().parent.parent / "data" / "quality"
CASE_FIELDS = ("id", "language", "path", "qualname", "signature", "docstring", "first_paragraph")


class CorpusError(ValueError):
    """The corpus or a case in it cannot be used; the message names which and why."""


class DocMode(Enum):
    HIDDEN = "hidden"  # no word of the docstring is shown
    FIRST_SENTENCE = "first_sentence"  # the first sentence is shown, the rest is the target


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    language: str
    path: str  # workspace-relative, POSIX
    qualname: str
    signature: str
    docstring: str
    first_paragraph: str
    module: str = ""


@dataclass(frozen=True, slots=True)
class PreparedCase:
    """A case as the model's workspace holds it: its span there and what it is scored on."""

    case: Case
    span: Span  # cut from the rewritten file: what the pipeline glosses
    target: str  # the hidden text a summary is scored against
    shown: str | None  # the documentation left in the file (FIRST_SENTENCE), else None


def load_cases(corpus: Path = CORPUS) -> list[Case]:
    """The corpus's cases, each checked for the fields the bench reads."""
    path = corpus / "cases.json"
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise CorpusError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, list):
        raise CorpusError(f"{path}: expected a list of cases, got {type(data).__name__}")
    cases: list[Case] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise CorpusError(f"{path}: case {index} is not an object")
        bad = [k for k in CASE_FIELDS if not isinstance(item.get(k), str) or not item[k].strip()]
        if bad:
            raise CorpusError(f"{path}: case {index} ({item.get('id')}) lacks {', '.join(bad)}")
        cases.append(
            Case(
                **{k: item[k] for k in CASE_FIELDS},
                module=str(item.get("module") or ""),
            )
        )
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise CorpusError(f"{path}: case ids repeat")
    return cases


_SPLIT = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|[^A-Za-z0-9]+")


def name_words(qualname: str) -> str:
    """`HTTPServer.load_config` -> "http server load config": the words a name says."""
    return " ".join(w.lower() for w in _SPLIT.split(qualname) if w)


# A sentence ends at . ! or ? before a capital, a digit, a quote or bracket, or the end;
# so "e.g. the file" and "os.path" do not end one.
_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z0-9\"'`(\[]|\s*$)")


def first_sentence(docstring: str) -> tuple[str, str]:
    """(the first sentence, the rest), whitespace flattened; the rest may be empty."""
    flat = " ".join(docstring.split())
    end = _SENTENCE_END.search(flat)
    if end is None:
        return flat, ""
    return flat[: end.end()], flat[end.end() :].strip()


def shown_and_rest(case: Case) -> tuple[str, str]:
    """(the first sentence of the docstring's prose, the rest of its prose), flattened.

    The prose starts at the first paragraph (`first_paragraph`, after any opening
    signature line); doctest lines are not prose."""
    first, rest = first_sentence(case.first_paragraph)
    lines = [line for line in case.docstring.splitlines() if not line.strip().startswith(">>>")]
    flat = " ".join(" ".join(lines).split())
    at = flat.find(first)
    return first, (flat[at + len(first) :].strip() if at >= 0 else rest)


def spans_per_file(corpus: Path, paths: Iterable[str]) -> dict[str, int]:
    """How many spans Gloss cuts from each of these corpus files (what a run glosses)."""
    out: dict[str, int] = {}
    for rel in paths:
        try:
            text = (corpus / "workspace" / rel).read_text("utf-8")
        except OSError as exc:
            raise CorpusError(f"{corpus / 'workspace' / rel}: cannot be read ({exc})") from None
        out[rel] = len(extract_spans(rel, text))
    return out


def prepare_workspace(
    corpus: Path, cases: Sequence[Case], dest: Path, mode: DocMode
) -> list[PreparedCase]:
    """Copy the files of `cases` from `corpus/workspace` into `dest`, their docs rewritten."""
    source_root = corpus / "workspace"
    by_path: dict[str, list[Case]] = {}
    for case in cases:
        by_path.setdefault(case.path, []).append(case)
    prepared: dict[str, PreparedCase] = {}
    for rel, file_cases in sorted(by_path.items()):
        source = source_root / rel
        try:
            text = source.read_text("utf-8")
        except OSError as exc:
            raise CorpusError(f"{source}: cannot be read ({exc.strerror or exc})") from None
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        new_text = rewrite_docs(rel, text, file_cases, mode)
        target.write_text(new_text, "utf-8")
        spans = {s.qualname: s for s in extract_spans(rel, new_text)}
        for case in file_cases:
            prepared[case.id] = _checked(case, spans.get(case.qualname), mode)
    _copy_support_files(source_root, dest, by_path)
    return [prepared[c.id] for c in cases]


def _copy_support_files(source_root: Path, dest: Path, chosen: Iterable[str]) -> None:
    """Files other than sources (a go.mod, a README) come along; other sources do not,
    so a `--limit` run glosses only the files its cases are in."""
    chosen = set(chosen)
    for path in sorted(source_root.rglob("*")):
        rel = path.relative_to(source_root).as_posix()
        if not path.is_file() or rel in chosen:
            continue
        try:
            head = path.read_text("utf-8")[:4096]
        except (OSError, UnicodeDecodeError):
            head = ""
        if language_for_source(rel, head) is None:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest / rel)


def _checked(case: Case, span: Span | None, mode: DocMode) -> PreparedCase:
    if span is None:
        raise CorpusError(f"case {case.id}: no definition {case.qualname} in {case.path}")
    first, rest = shown_and_rest(case)
    if mode is DocMode.HIDDEN:
        if span.docstring:
            raise CorpusError(f"case {case.id}: its docstring is still in {case.path}")
        return PreparedCase(case, span, case.first_paragraph, None)
    if " ".join((span.docstring or "").split()) != first:
        raise CorpusError(
            f"case {case.id}: {case.path} shows {span.docstring!r}, not its first sentence"
        )
    return PreparedCase(case, span, rest, first)


# --- rewriting a file's documentation ------------------------------------------


def rewrite_docs(rel: str, text: str, cases: Sequence[Case], mode: DocMode) -> str:
    """`text` with each case's documentation removed or cut to its first sentence."""
    spec = language_for_source(rel, text)
    if spec is None:
        raise CorpusError(f"{rel}: not a source file of any language Gloss reads")
    data = text.encode("utf-8")
    tree = parser(spec).parse(data)
    spans = {s.qualname: s for s in extract_spans(rel, text, spec)}
    edits: list[tuple[int, int, bytes]] = []
    for case in cases:
        span = spans.get(case.qualname)
        if span is None:
            raise CorpusError(f"case {case.id}: no definition {case.qualname} in {rel}")
        node = _definition_node(tree.root_node, data, span)
        if node is None:
            raise CorpusError(f"case {case.id}: {case.qualname}'s node not found in {rel}")
        shown = shown_and_rest(case)[0] if mode is DocMode.FIRST_SENTENCE else None
        if spec.doc is DocStyle.DOCSTRING:
            edit = _docstring_edit(node, data, shown)
        else:
            edit = _comment_edit(spec, node, data, shown)
        if edit is None:
            raise CorpusError(f"case {case.id}: cannot rewrite the docs of {case.qualname}")
        edits.append(edit)
    for start, end, replacement in sorted(edits, reverse=True):
        data = data[:start] + replacement + data[end:]
    return data.decode("utf-8")


def _definition_node(root: Node, data: bytes, span: Span) -> Node | None:
    """The definition whose name is at the span's name position."""
    line_start = _line_start_byte(data, span.name_line)
    line = data[line_start:].split(b"\n", 1)[0].decode("utf-8")
    column = len(_utf16_prefix(line, span.name_col).encode("utf-8"))
    name = root.descendant_for_byte_range(line_start + column, line_start + column)
    node = name
    while node is not None:
        named = node.child_by_field_name("name")
        if named is not None and name is not None and named.start_byte == name.start_byte:
            return node
        node = node.parent
    return None


def _utf16_prefix(line: str, units: int) -> str:
    count = 0
    for index, char in enumerate(line):
        if count >= units:
            return line[:index]
        count += 2 if ord(char) > 0xFFFF else 1
    return line


def _line_start_byte(data: bytes, line: int) -> int:
    start = 0
    for _ in range(line):
        start = data.index(b"\n", start) + 1
    return start


def _line_bounds(data: bytes, start: int, end: int) -> tuple[int, int]:
    """From the start of `start`'s line to past the newline ending `end`'s line."""
    line_start = data.rfind(b"\n", 0, start) + 1
    newline = data.find(b"\n", end)
    return line_start, len(data) if newline < 0 else newline + 1


def _python_literal(sentence: str) -> bytes:
    body = sentence.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if body.endswith('"'):
        body = body[:-1] + '\\"'
    return f'"""{body}"""'.encode()


def _docstring_edit(node: Node, data: bytes, shown: str | None) -> tuple[int, int, bytes] | None:
    body = node.child_by_field_name("body")
    if body is None:
        return None
    statements = [c for c in body.named_children if c.type != "comment"]
    if not statements:
        return None
    first = statements[0]
    expressions = [c for c in first.named_children if c.type != "comment"]
    is_doc = (
        first.type == "expression_statement"
        and len(expressions) == 1
        and expressions[0].type in ("string", "concatenated_string")
    )
    if not is_doc:
        if shown is None:
            return (first.start_byte, first.start_byte, b"")  # nothing to hide
        line_start = data.rfind(b"\n", 0, first.start_byte) + 1
        indent = data[line_start : first.start_byte]
        if indent.strip():
            return None  # the body shares its line with the header
        return (line_start, line_start, indent + _python_literal(shown) + b"\n")
    if shown is not None:
        return (first.start_byte, first.end_byte, _python_literal(shown))
    if len(statements) == 1:
        return (first.start_byte, first.end_byte, b"pass")  # the body needs a statement
    line_start, line_end = _line_bounds(data, first.start_byte, first.end_byte)
    if data[line_start : first.start_byte].strip():
        return (first.start_byte, first.end_byte, b"pass")
    return (line_start, line_end, b"")


def _comment_edit(
    spec: LanguageSpec, node: Node, data: bytes, shown: str | None
) -> tuple[int, int, bytes] | None:
    """The comment block right above the definition (with its wrappers)."""
    outer = node
    while outer.parent is not None and outer.parent.type in spec.wrappers:
        outer = outer.parent
    top = outer
    while (
        (above := top.prev_sibling) is not None
        and above.type in spec.comments
        and above.end_point.row >= top.start_point.row - 1
    ):
        top = above
    line_start = data.rfind(b"\n", 0, outer.start_byte) + 1
    indent = data[line_start : outer.start_byte]
    if indent.strip():
        indent = b""
    replacement = b"" if shown is None else indent + f"{spec.line_comment} {shown}\n".encode()
    if top is outer:
        return (line_start, line_start, replacement)
    start, _ = _line_bounds(data, top.start_byte, top.start_byte)
    return (start, line_start, replacement)
