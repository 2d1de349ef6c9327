"""The prompt for one span: its code (a class's without method bodies), path, scope, signature.

`PROMPT_VERSION` is part of every gloss's cache key; bump it whenever the text
below changes what a model would write, so old glosses are redone lazily.
Span text is redacted of secret-looking strings here, the last point before a
request leaves the process; no other module builds request text.
"""

from __future__ import annotations

from dataclasses import dataclass

from enrich_core.redact import redact_secrets
from enrich_core.schema import LIST_MAX_ITEMS, SUMMARY_MAX_WORDS
from enrich_core.spans import Span, SpanKind

PROMPT_VERSION = "1"

SYSTEM_PROMPT = f"""You document code for a developer who hovers over a symbol in their editor.
Answer with one JSON object and nothing else, with exactly these keys:
- "summary": what the code does and why one would call it, in plain words, at most \
{SUMMARY_MAX_WORDS} words (aim for 1-3 sentences). Do not repeat the code.
- "inputs": each parameter or input it reads, "name: meaning" (at most {LIST_MAX_ITEMS}).
- "outputs": what it returns or yields, and exceptions it raises.
- "side_effects": I/O, mutation of arguments or globals, network, files, logging.
- "pitfalls": edge cases, surprising behaviour, misuse that bites.
- "usage_snippet": one short example call, as code.
- "tags": a few lowercase topic words.
Use an empty list where a list has nothing true to say. Never write placeholders \
such as "N/A" or "none"."""


@dataclass(frozen=True, slots=True)
class Prompt:
    messages: tuple[dict[str, str], ...]
    redactions: int

    def as_list(self) -> list[dict[str, str]]:
        return [dict(m) for m in self.messages]


def build_prompt(span: Span, code: str | None = None) -> Prompt:
    """The request for one span. `code` is the view to send (already redacted, perhaps
    trimmed); by default the span's whole text, redacted here."""
    redactions = 0
    if code is None:
        redaction = redact_secrets(span.text)
        code, redactions = redaction.text, redaction.count
    lines = [
        f"Path: {span.path}",
        f"Symbol: {span.qualname}",
        f"Kind: {span.kind.value.replace('_', ' ')}",
    ]
    if span.container:
        lines.append(f"Enclosing scope: {span.container}")
    lines.append(f"Signature: {span.signature}")
    if span.kind is SpanKind.CLASS:
        lines.append("Method bodies are shown as `...`: each method has a gloss of its own.")
    fence = "```"
    while fence in code:
        fence += "`"
    lines += ["Code:", f"{fence}python", code.rstrip("\n"), fence]
    return Prompt(
        messages=(
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "\n".join(lines)},
        ),
        redactions=redactions,
    )
