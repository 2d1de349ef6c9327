"""What a file tells a reader of one of its spans: its imports, its types' outlines,
and which of its functions a call may name.

Made from a file's parse (`ParsedFile`) and kept beside its spans while they
wait to be glossed (`SpanTexts`), so gathering a span's context (run/span_context.py)
needs no second parse and no store read for what is in the same file. The
strings are the spans' own (a type's text is its outline already, member bodies
cut to `...`), so keeping them costs a few small dicts per file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from enrich_core.records.span import OUTLINED_KINDS
from enrich_core.source.call_order import CALLABLE_KINDS
from enrich_core.source.parsed_file import ParsedFile

__all__ = ["FileContext"]

_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class FileContext:
    path: str
    imports: tuple[str, ...]  # top-level import lines, as written (bounded)
    outlines: Mapping[str, str]  # a type's qualname -> its outline text
    callables: Mapping[str, str]  # a function's or method's qualname -> its content hash
    # The words of each import line (`from pkg.util import helper` -> pkg, util, ...):
    # what a call's first word and a callee's module are matched against.
    import_words: tuple[frozenset[str], ...] = ()

    @classmethod
    def of(cls, parsed: ParsedFile) -> FileContext:
        outlines: dict[str, str] = {}
        callables: dict[str, str] = {}
        for span in parsed.spans:
            if span.kind in OUTLINED_KINDS:
                outlines.setdefault(span.qualname, span.text)
            elif span.kind in CALLABLE_KINDS:
                # A name defined twice (a property's getter and setter): the first.
                callables.setdefault(span.qualname, span.content_hash)
        words = tuple(frozenset(_WORD.findall(line)) for line in parsed.imports)
        return cls(parsed.path, parsed.imports, outlines, callables, words)

    @property
    def size_bytes(self) -> int:
        """What keeping it adds beyond the spans' own strings, roughly."""
        return sum(len(line) for line in self.imports) + 100 * (
            len(self.outlines) + len(self.callables)
        )
