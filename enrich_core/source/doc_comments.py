"""A definition's doc comment: the comments right above it, as its language marks them.

Which comments count is the language row's `DocStyle`: a JSDoc/Javadoc/PHPDoc
`/** */` block, rustdoc's `///` lines, C#'s `///` XML, or (Go, C, C++, Ruby)
any comment block with no blank line between it and the definition. The text
is returned without its comment markers; a comment that is not documentation
by the language's rule gives None, never a guess.
"""

from __future__ import annotations

import html
import inspect
import re

from tree_sitter import Node

from enrich_core.source.languages import DocStyle, LanguageSpec
from enrich_core.source.tree_text import Positions, decode

__all__ = ["doc_comment"]

# At the start of each line: lines are split first, so `\s` would stop at none.
_STAR_LINE = re.compile(r"^[^\S\n]*\*(?!/) ?", re.MULTILINE)
_XML_PARAM = re.compile(r'<(?:param|typeparam)\s+name\s*=\s*"([^"]*)"\s*>', re.IGNORECASE)
# What the IDE heads these sections with; the exception's type is its cref.
_XML_RETURNS = re.compile(r"<returns\s*>", re.IGNORECASE)
_XML_EXCEPTION = re.compile(r'<exception\s+cref\s*=\s*"([^"]*)"\s*>', re.IGNORECASE)
_XML_REFERENCE = re.compile(
    r'<(?:see|seealso|paramref|typeparamref)\s+(?:cref|name|langword|href)\s*=\s*"([^"]*)"\s*/?>',
    re.IGNORECASE,
)
_XML_BLOCK_END = re.compile(
    r"</(?:summary|remarks|returns|exception|param|typeparam|para|example)>", re.I
)
_XML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def doc_comment(spec: LanguageSpec, outer: Node, data: bytes, positions: Positions) -> str | None:
    """The documentation written above `outer` (the definition with its wrappers)."""
    comments = _comments_above(spec, outer, data, positions)
    if not comments:
        return None
    texts = [decode(data[c.start_byte : c.end_byte]).strip() for c in comments]
    chosen: list[str]
    if spec.doc is DocStyle.STAR_BLOCK:
        chosen = texts[:1] if _is_star_doc(texts[0]) else []
    elif spec.doc in (DocStyle.SLASH_OR_STAR, DocStyle.XML_SLASH):
        if spec.doc is DocStyle.SLASH_OR_STAR and _is_star_doc(texts[0]):
            chosen = texts[:1]
        else:
            chosen = []
            for text in texts:  # nearest first: the run of `///` lines just above
                if not (text.startswith("///") and not text.startswith("////")):
                    break
                chosen.append(text)
    else:
        chosen = texts
    if not chosen:
        return None
    body = "\n".join(_strip_markers(text) for text in reversed(chosen))
    if spec.doc is DocStyle.XML_SLASH:
        body = _xml_text(body)
    cleaned = inspect.cleandoc(body).strip()
    return cleaned or None


def _comments_above(
    spec: LanguageSpec, outer: Node, data: bytes, positions: Positions
) -> list[Node]:
    """The comments directly above `outer`, nearest first, stopping at a blank line."""
    node = outer
    sibling = node.prev_named_sibling
    # Ruby puts the comments before a body's first statement outside the body
    # node, which starts where that statement does: look above the body instead.
    while sibling is None and (parent := node.parent) is not None:
        if parent.start_byte != node.start_byte:
            break
        node = parent
        sibling = node.prev_named_sibling
    expected_line = positions.line(node.start_byte)
    found: list[Node] = []
    while sibling is not None:
        start_line = positions.line(sibling.start_byte)
        end = sibling.end_byte
        while end > sibling.start_byte and data[end - 1 : end] in (b"\n", b"\r"):
            end -= 1  # rust's line comments own their newline
        end_line = positions.line(end)
        if end_line < expected_line - 1:
            break  # a blank line: what is above documents something else, or nothing
        if sibling.type in spec.between_doc:
            expected_line = start_line
        elif sibling.type in spec.comments and _starts_its_line(sibling, data, positions):
            found.append(sibling)
            expected_line = start_line
        else:
            break
        sibling = sibling.prev_named_sibling
    return found


def _starts_its_line(node: Node, data: bytes, positions: Positions) -> bool:
    """Not a trailing comment of the code before it (`x = 1 // note`)."""
    return data[positions.line_start(node.start_byte) : node.start_byte].strip() == b""


def _is_star_doc(text: str) -> bool:
    return text.startswith("/**") and not text.startswith("/**/")


def _strip_markers(text: str) -> str:
    if text.startswith("/*"):
        inner = text[2:].removesuffix("*/")
        if inner[:1] in ("*", "!"):
            inner = inner[1:]
        # `/***/` has no line at all.
        first, _, rest = "\n".join(inner.splitlines()).partition("\n")
        # Continuation lines ` * text` lose their star; the first line keeps its text.
        return f"{first.strip()}\n{_STAR_LINE.sub('', rest)}" if rest else first.strip()
    for marker in ("///", "//!", "//", "#"):
        if text.startswith(marker):
            stripped = text[len(marker) :]
            return stripped[1:] if stripped.startswith(" ") else stripped
    return text


def _xml_text(body: str) -> str:
    """C#'s XML doc as the text a reader sees in the IDE's tooltip."""
    body = _XML_PARAM.sub(lambda m: f"\n{m.group(1)}: ", body)
    body = _XML_RETURNS.sub("\nReturns: ", body)
    body = _XML_EXCEPTION.sub(lambda m: f"\nThrows {m.group(1)}: ", body)
    body = _XML_REFERENCE.sub(lambda m: m.group(1), body)
    body = _XML_BLOCK_END.sub("\n", body)
    body = _XML_TAG.sub("", body)
    lines = [" ".join(line.split()) for line in html.unescape(body).splitlines()]
    return "\n".join(line for line in lines if line)
