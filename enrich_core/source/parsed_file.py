"""One file read and cut into spans: the part of a scan that needs no workspace state.

Pure of the store and the configuration, so the scan's thread and a parse
worker process (`parse_pool`) run the very same code on a file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from enrich_core.records.span import Span
from enrich_core.source.call_order import gloss_order
from enrich_core.source.discovery import SkippedFile, SourceFile, read_source
from enrich_core.source.spans import Cut, cut_spans

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ParsedFile:
    path: str
    mtime_ns: int
    size: int
    spans: list[Span]
    # For people: the lines a syntax error kept from being parsed, if any.
    unparsed: str | None = None
    # The module's top-level import lines, for the prompt (source.imports).
    imports: tuple[str, ...] = ()
    # The order to gloss `spans` in, callees first (source.call_order); None: as listed.
    gloss_order: tuple[int, ...] | None = None

    def in_gloss_order(self) -> list[Span]:
        if self.gloss_order is None:
            return list(self.spans)
        return [self.spans[i] for i in self.gloss_order]


def parse_source_file(f: SourceFile, max_file_bytes: int) -> ParsedFile | SkippedFile:
    """A walked file read and cut: its spans, or why it is skipped. Pure of any
    workspace state, so a parse worker process runs it as the scan's thread does."""
    text = read_source(f, max_file_bytes)
    if isinstance(text, SkippedFile):
        return text
    cut = cut_text(f.path, text)
    if isinstance(cut, SkippedFile):
        return cut
    return parsed_file(f.path, f.mtime_ns, f.size, cut)


def parsed_file(rel: str, mtime_ns: int, size: int, cut: Cut) -> ParsedFile:
    # The gloss order is worked out here, in the parse worker on a first scan, so the
    # event loop that queues the spans does not pay for it.
    return ParsedFile(
        rel, mtime_ns, size, cut.spans, unparsed_note(cut), cut.imports, gloss_order(cut.spans)
    )


def unparsed_note(cut: Cut) -> str | None:
    if not cut.unparsed:
        return None
    return "; ".join(u.describe() for u in cut.unparsed) + "; definitions there may be missing"


def cut_text(rel: str, text: str) -> Cut | SkippedFile:
    """The file's spans; a file the extractor fails on is skipped with the reason,
    never the end of the scan (one odd file in twelve languages must not stop the
    other ten thousand)."""
    try:
        return cut_spans(rel, text)
    except Exception as error:  # a bug in a grammar, a query or the extractor
        logger.exception("cutting %s into spans failed", rel)
        return SkippedFile(
            rel, f"could not be cut into spans: {type(error).__name__}: {error} (a Gloss bug)"
        )
