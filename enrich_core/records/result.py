"""What came of glossing one span, and of each request made for it.

The router fills these in; the writer stores them and metrics are computed from
them, so storage depends on this record and not on the LLM layer. `gloss` is a
model's validated answer or None: nothing here is ever written by Gloss itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from enrich_core.records.facts import CodeFacts
from enrich_core.records.gloss import Gloss


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One HTTP (or embedded) request: what metrics are computed from."""

    backend: str
    tier: str
    model: str
    ok: bool  # the host answered (whether or not the answer was a usable gloss)
    error: str | None  # the error class when it did not
    ms: float
    tokens_in: int
    tokens_out: int
    estimated: bool  # token counts estimated: the backend reported no usage


@dataclass(frozen=True, slots=True)
class GlossResult:
    content_hash: str
    gloss: Gloss | None
    model: str | None = None
    tier: str | None = None
    backend: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_estimated: bool = False
    duration_ms: float = 0.0
    attempts: int = 0
    escalations: tuple[str, ...] = ()
    failure: str | None = None
    first_tier: str | None = None
    route: str | None = None  # why the first tier was chosen
    trimmed: str | None = None  # "kept 180 of 900 lines" when a trimmed view was sent
    rejections: tuple[str, ...] = ()  # reason names of answers rejected on the way
    requests: tuple[RequestRecord, ...] = ()
    # Read from the code (source/code_facts.py), whatever the model answered.
    facts: CodeFacts | None = None
    # The context parts the prompt carried beside the code, and any dropped for the
    # tier's budget: "imports 4, outline, callees 2; dropped: docstring (budget)".
    context: str | None = None
