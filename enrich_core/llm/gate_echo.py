"""The gate's `echoed_prompt` check: an answer that says the request back instead of answering it.

Small models asked for JSON sometimes return the prompt itself (its header
lines, its code block, the messages as JSON). The instructions' wording copied
into a field is `copied_prompt` (gate_voice.py). Part of the quality gate
(`gate.py` runs the checks in order).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from enrich_core.records.gloss import Gloss, GlossRejected
from enrich_core.records.span import Span

# The labels of the request's header lines and sections (outbound.build_prompt).
_REQUEST_LABEL = re.compile(
    r"(?<![\w-])(Path|Language|Symbol|Kind|Enclosing scope|Signature|Imports"
    r"|Enclosing class outline|Enclosing type outline|Code):(?=\s|$)"
)
_WORDS = re.compile(r"[a-z0-9]+")
# The request sent back as JSON messages, or the schema's keys quoted inside a field.
_MESSAGE_JSON = re.compile(r"[\"']role[\"']\s*:\s*[\"'](?:system|user|assistant)[\"']")
_QUOTED_KEY = re.compile(
    r"[\"'](summary|inputs|outputs|side_effects|pitfalls|usage_snippet|tags)[\"']\s*:"
)


def check_not_echoed(gloss: Gloss, span: Span) -> None:
    """Raise GlossRejected when the answer repeats the request instead of answering it.

    `echoed_prompt`: a field holds two of the request's header labels, a label
    with this span's own value (`Symbol: Foo.bar`, `Signature: def ...`), the
    `Code:` line and its fence; or the request's messages or the schema's keys as
    JSON. (The instructions' wording in a field is `copied_prompt`: gate_voice.py,
    checked before.) What the span's own code holds is a quote of the code, not
    an echo: a gloss of the code that builds these requests may name them."""
    code = SpanCode(span)
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
        if may_json and _json_echo(text, code):
            raise GlossRejected("echoed_prompt", f"{field} holds the request as JSON")


class SpanCode:
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


def _json_echo(text: str, code: SpanCode) -> bool:
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
