"""What a reader of a span has beside its code, gathered for the prompt.

The engine gathers a `SpanContext` for each span it glosses (the module's
imports, the enclosing type's outline for a member, the one-line summaries of
already-glossed functions the span calls); the span's own docstring and
language come with the span. `llm/outbound.py` redacts every part and
`llm/prompt_context.py` fits the parts into a tier's token budget, dropping
whole parts in a fixed priority order; what was sent is recorded with the
gloss (`GlossResult.context`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONTEXT_PARTS", "MAX_IMPORT_LINES", "NO_CONTEXT", "CalleeSummary", "SpanContext"]

# The parts a prompt may carry beside the code, in the order they are dropped
# when a tier's context budget is short (first dropped first). `[prompt] context`
# in gloss.toml names the parts to send; all by default.
CONTEXT_PARTS: tuple[str, ...] = ("imports", "callees", "outline", "docstring")
# A file's import lines are kept up to this many (source/imports.py): enough for
# nearly every module (requests' sessions.py has 56), so the gate can tell a
# module the file imports from one a model invented; at the cap the list may be
# cut and the gate does not judge module names. A prompt's token budget trims
# further, and imports are not sent by default.
MAX_IMPORT_LINES = 200


@dataclass(frozen=True, slots=True)
class CalleeSummary:
    name: str  # as called in the span: `load_config`, `self._parse`
    qualname: str  # what it resolved to in the workspace
    summary: str  # the first sentence of that function's gloss (a model wrote it)


@dataclass(frozen=True, slots=True)
class SpanContext:
    imports: tuple[str, ...] = ()  # the module's import lines, as written
    outline: str | None = None  # the enclosing type's outline, for a member
    callees: tuple[CalleeSummary, ...] = ()


NO_CONTEXT = SpanContext()
