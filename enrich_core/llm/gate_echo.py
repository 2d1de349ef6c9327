"""The gate's `echoed_prompt` check: an answer that says the request back instead of answering it.

Small models asked for JSON sometimes return the prompt itself (its header
lines, its code block, its instructions, the messages as JSON). Part of the
quality gate (`gate.py` runs the checks in order).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from enrich_core.llm.outbound import SYSTEM_PROMPT
from enrich_core.records.gloss import Gloss, GlossRejected
from enrich_core.records.span import Span

# The labels of the request's header lines (outbound.build_prompt).
_REQUEST_LABEL = re.compile(
    r"(?<![\w-])(Path|Language|Symbol|Kind|Enclosing scope|Signature|Code):(?=\s|$)"
)
_INSTRUCTION_WORDS = re.findall(r"[a-z0-9]+", SYSTEM_PROMPT.lower())
_INSTRUCTION_TEXT = " " + " ".join(_INSTRUCTION_WORDS) + " "
# Any run of this many words of the instructions is a copy, not a coincidence:
# no sentence of a gloss needs six words in a row of "what the code does and
# why one would call it" (measured on real answers: tests/test_real_model.py).
_ECHO_RUN_WORDS = 6
# A whole field of at least this many words that is a piece of the instructions
# ("what it returns or yields") is the instruction, not an answer to it.
_ECHO_FIELD_WORDS = 4
_INSTRUCTION_NGRAMS = frozenset(
    tuple(_INSTRUCTION_WORDS[i : i + _ECHO_RUN_WORDS])
    for i in range(len(_INSTRUCTION_WORDS) - _ECHO_RUN_WORDS + 1)
)
# The instructions' own template for an input, and the request sent back as
# JSON messages, or the schema's keys quoted inside a field.
_TEMPLATE_ITEM = re.compile(r"^\W*name\W*:\W*meaning\W*$", re.IGNORECASE)
_MESSAGE_JSON = re.compile(r"[\"']role[\"']\s*:\s*[\"'](?:system|user|assistant)[\"']")
_QUOTED_KEY = re.compile(
    r"[\"'](summary|inputs|outputs|side_effects|pitfalls|usage_snippet|tags)[\"']\s*:"
)


def check_not_echoed(gloss: Gloss, span: Span) -> None:
    """Raise GlossRejected when the answer repeats the request instead of answering it.

    `echoed_prompt`: a field holds two of the request's header labels, a label
    with this span's own value (`Symbol: Foo.bar`, `Signature: def ...`), the
    `Code:` line and its fence, six words in a row of the instructions, or is
    wholly a piece of them; or the request's messages or the schema's keys as
    JSON. (A summary that is a piece of the instructions is `copied_prompt`,
    checked before.) What the span's own code holds is a quote of the code, not
    an echo: a gloss of the code that builds these requests may name them."""
    code = "\n".join((span.text, span.signature, span.docstring or ""))
    code_words = " " + " ".join(re.findall(r"[a-z0-9]+", code.lower())) + " "
    own_values = _header_values(span)
    for field, text in answer_fields(gloss):
        labels = {label for label in _REQUEST_LABEL.findall(text) if f"{label}:" not in code}
        if len(labels) >= 2:
            named = ", ".join(sorted(labels))
            raise GlossRejected("echoed_prompt", f"{field} repeats the request's lines ({named})")
        flat = " ".join(text.split())
        for label, value in own_values:
            if label in labels and f"{label}: {value}" in flat:
                raise GlossRejected("echoed_prompt", f"{field} repeats the request's {label} line")
        if "Code" in labels and "```" in text:
            raise GlossRejected("echoed_prompt", f"{field} repeats the request's code block")
        if _TEMPLATE_ITEM.match(text):
            raise GlossRejected("echoed_prompt", f"{field} is the instructions' template {text!r}")
        if _json_echo(text, code):
            raise GlossRejected("echoed_prompt", f"{field} holds the request as JSON")
        words = re.findall(r"[a-z0-9]+", text.lower())
        whole = f" {' '.join(words)} "
        if (
            len(words) >= _ECHO_FIELD_WORDS
            and whole in _INSTRUCTION_TEXT
            and whole not in code_words
        ):
            raise GlossRejected("echoed_prompt", f"{field} is a piece of the instructions")
        for i in range(len(words) - _ECHO_RUN_WORDS + 1):
            run = words[i : i + _ECHO_RUN_WORDS]
            if tuple(run) in _INSTRUCTION_NGRAMS and f" {' '.join(run)} " not in code_words:
                quoted = " ".join(run)
                raise GlossRejected(
                    "echoed_prompt", f"{field} repeats the instructions ({quoted!r})"
                )


def _json_echo(text: str, code: str) -> bool:
    """The request's messages, or two of the schema's keys, as JSON the code does not hold."""
    if _MESSAGE_JSON.search(text) and not _MESSAGE_JSON.search(code):
        return True
    keys = set(_QUOTED_KEY.findall(text))
    return len(keys) >= 2 and not all(f'"{k}"' in code or f"'{k}'" in code for k in keys)


def _header_values(span: Span) -> list[tuple[str, str]]:
    """The request's header lines whose value only this span's request holds."""
    values = [
        ("Path", span.path),
        ("Symbol", span.qualname),
        ("Signature", " ".join(span.signature.split())),
    ]
    if span.container:
        values.append(("Enclosing scope", span.container))
    return [(label, value) for label, value in values if value]


def answer_fields(gloss: Gloss) -> Iterator[tuple[str, str]]:
    """Each text of an answer, named as a reason names it (`inputs[2]`)."""
    yield "summary", gloss.summary
    for field in ("inputs", "outputs", "side_effects", "pitfalls", "tags"):
        for index, item in enumerate(getattr(gloss, field)):
            yield f"{field}[{index}]", item
    yield "usage_snippet", gloss.usage_snippet
