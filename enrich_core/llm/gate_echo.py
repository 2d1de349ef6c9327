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

# The labels of the request's header lines and sections (outbound.build_prompt).
_REQUEST_LABEL = re.compile(
    r"(?<![\w-])(Path|Language|Symbol|Kind|Enclosing scope|Signature|Imports"
    r"|Enclosing class outline|Enclosing type outline|Code):(?=\s|$)"
)
_WORDS = re.compile(r"[a-z0-9]+")
_INSTRUCTION_WORDS = _WORDS.findall(SYSTEM_PROMPT.lower())
_INSTRUCTION_VOCABULARY = frozenset(_INSTRUCTION_WORDS)
_INSTRUCTION_TEXT = " " + " ".join(_INSTRUCTION_WORDS) + " "
# Any run of this many words of the instructions is a copy, not a coincidence:
# no sentence of a gloss needs six words in a row of "what the code does and
# why one would call it" (measured on real answers: tests/test_real_model.py).
_ECHO_RUN_WORDS = 6
# A whole field of at least this many words that is a piece of the instructions
# ("what it returns or yields") is the instruction, not an answer to it.
_ECHO_FIELD_WORDS = 4
_ALL_INSTRUCTION_WORDS = "1" * _ECHO_RUN_WORDS
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
    code = _SpanCode(span)
    fields = list(answer_fields(gloss))
    # One search over all the fields finds whatever one field holds (the newline
    # between them is a boundary to each pattern): most answers hold none.
    joined = "\n".join(text for _, text in fields)
    may_label = _REQUEST_LABEL.search(joined) is not None
    may_json = _MESSAGE_JSON.search(joined) is not None or _QUOTED_KEY.search(joined) is not None
    for field, text in fields:
        found = _REQUEST_LABEL.findall(text) if may_label else []
        labels = {label for label in found if f"{label}:" not in code.text} if found else set()
        if len(labels) >= 2:
            named = ", ".join(sorted(labels))
            raise GlossRejected("echoed_prompt", f"{field} repeats the request's lines ({named})")
        if labels:
            flat = " ".join(text.split())
            for label, value in _header_values(span):
                if label in labels and f"{label}: {value}" in flat:
                    raise GlossRejected(
                        "echoed_prompt", f"{field} repeats the request's {label} line"
                    )
        if "Code" in labels and "```" in text:
            raise GlossRejected("echoed_prompt", f"{field} repeats the request's code block")
        if _TEMPLATE_ITEM.match(text):
            raise GlossRejected("echoed_prompt", f"{field} is the instructions' template {text!r}")
        if may_json and _json_echo(text, code):
            raise GlossRejected("echoed_prompt", f"{field} holds the request as JSON")
        words = _WORDS.findall(text.lower())
        if len(words) < _ECHO_FIELD_WORDS:
            continue
        whole = f" {' '.join(words)} "
        if whole in _INSTRUCTION_TEXT and whole not in code.words:
            raise GlossRejected("echoed_prompt", f"{field} is a piece of the instructions")
        run = _instruction_run(words, code)
        if run is not None:
            raise GlossRejected("echoed_prompt", f"{field} repeats the instructions ({run!r})")


def _instruction_run(words: list[str], code: _SpanCode) -> str | None:
    """The first run of `_ECHO_RUN_WORDS` words of the instructions in `words` that the
    span's code does not hold, or None."""
    if len(words) < _ECHO_RUN_WORDS:
        return None
    # Every word of such a run is a word of the instructions: most answers have no
    # six such words in a row, and need no window looked up.
    marks = "".join(["1" if word in _INSTRUCTION_VOCABULARY else "0" for word in words])
    start = marks.find(_ALL_INSTRUCTION_WORDS)
    while start >= 0:
        run = words[start : start + _ECHO_RUN_WORDS]
        if tuple(run) in _INSTRUCTION_NGRAMS and f" {' '.join(run)} " not in code.words:
            return " ".join(run)
        start = marks.find(_ALL_INSTRUCTION_WORDS, start + 1)
    return None


class _SpanCode:
    """The span's own text as the checks compare with it, made only if a check asks."""

    def __init__(self, span: Span) -> None:
        self._span = span
        self._text: str | None = None
        self._words: str | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            span = self._span
            self._text = "\n".join((span.text, span.signature, span.docstring or ""))
        return self._text

    @property
    def words(self) -> str:
        """Its words, lower case, space-separated with a space at each end."""
        if self._words is None:
            self._words = " " + " ".join(_WORDS.findall(self.text.lower())) + " "
        return self._words


def _json_echo(text: str, code: _SpanCode) -> bool:
    """The request's messages, or two of the schema's keys, as JSON the code does not hold."""
    if _MESSAGE_JSON.search(text) and not _MESSAGE_JSON.search(code.text):
        return True
    keys = set(_QUOTED_KEY.findall(text))
    return len(keys) >= 2 and not all(f'"{k}"' in code.text or f"'{k}'" in code.text for k in keys)


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
