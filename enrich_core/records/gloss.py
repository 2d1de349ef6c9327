"""The gloss: the JSON schema a model is asked for, and the check of what it returned.

A backend is asked to constrain its output to `gloss_schema(n)`, for a span of
`n` inputs (`GLOSS_SCHEMA` where that is not known), and the answer is
validated here anyway, against the same `list_limits(n)`: constrained decoding
is not universal, and a cut answer (`finish_reason == "length"`) is not a
gloss. Whatever fails a check raises
`GlossRejected` with a short named reason; the router escalates on it. This
module never repairs or invents a field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SUMMARY_MAX_WORDS = 120
# Small models repeat list items until max_tokens unless the array is bounded
# (LOCAL_LLM.md). Strings carry no maxLength: it explodes llama.cpp grammars.
LIST_MAX_ITEMS = 8
TAGS_MAX_ITEMS = 8
# The inputs list follows the code, so a complete answer is never too long
# (issue 14: `Session.request` has 16 parameters): one item per parameter or
# documented input, plus a few for what the code reads besides (a file,
# os.environ, an attribute of self); never fewer than LIST_MAX_ITEMS. The
# ceiling keeps the array bounded whatever a header holds; past it an answer
# would not fit max_tokens anyway.
INPUTS_EXTRA_ITEMS = 4
INPUTS_MAX_ITEMS = 48
# Lengths are checked here instead, each a few times what a good gloss needs,
# so a backend that ignores max_tokens cannot store or show megabytes: 120 words
# with long identifiers; a list item is a "name: meaning" or a sentence or two;
# the usage snippet is "one short example call"; a tag is a topic word or two.
# The whole answer is bounded before it is parsed (the default max_tokens, 768,
# is about 3,000 characters), so no field is ever read out of a huge answer.
ANSWER_MAX_CHARS = 12_000
SUMMARY_MAX_CHARS = 1_500
ITEM_MAX_CHARS = 500
TAG_MAX_CHARS = 40
USAGE_MAX_CHARS = 1_500
USAGE_MAX_LINES = 25

LIST_FIELDS: tuple[str, ...] = ("inputs", "outputs", "side_effects", "pitfalls", "tags")
FIELDS: tuple[str, ...] = (
    "summary",
    "inputs",
    "outputs",
    "side_effects",
    "pitfalls",
    "usage_snippet",
    "tags",
)


def _string_list(max_items: int) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "maxItems": max_items}


def list_limits(parameter_count: int | None) -> dict[str, int]:
    """The most items each list may hold for a span with `parameter_count` inputs
    (None: not known, as for a type): the schema's maxItems, the prompt's "at most"
    and `parse_gloss`'s check all read them from here."""
    inputs = max(LIST_MAX_ITEMS, (parameter_count or 0) + INPUTS_EXTRA_ITEMS)
    return {
        "inputs": min(inputs, INPUTS_MAX_ITEMS),
        "outputs": LIST_MAX_ITEMS,
        "side_effects": LIST_MAX_ITEMS,
        "pitfalls": LIST_MAX_ITEMS,
        "tags": TAGS_MAX_ITEMS,
    }


def gloss_schema(parameter_count: int | None) -> dict[str, Any]:
    """The JSON schema asked for a span with `parameter_count` inputs; every array
    bounded by `list_limits`. Spans with the same limits get the very same dict, so
    a request body encodes it once (`body_json.Verbatim`); it must not be changed."""
    return _schema_for(list_limits(parameter_count)["inputs"])


@lru_cache(maxsize=INPUTS_MAX_ITEMS)
def _schema_for(inputs_max_items: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "summary": {"type": "string"},
            "inputs": _string_list(inputs_max_items),
            "outputs": _string_list(LIST_MAX_ITEMS),
            "side_effects": _string_list(LIST_MAX_ITEMS),
            "pitfalls": _string_list(LIST_MAX_ITEMS),
            "usage_snippet": {"type": "string"},
            "tags": _string_list(TAGS_MAX_ITEMS),
        },
        "required": list(FIELDS),
        "additionalProperties": False,
    }


# A span whose inputs are not known (doctor's test request, tools that do not route).
GLOSS_SCHEMA: dict[str, Any] = gloss_schema(None)
_DEFAULT_LIMITS = list_limits(None)


class GlossRejected(ValueError):
    """A model answer that is not a usable gloss; `reason` is a short stable name."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True, slots=True)
class Gloss:
    summary: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    side_effects: tuple[str, ...]
    pitfalls: tuple[str, ...]
    usage_snippet: str
    tags: tuple[str, ...]

    def to_json(self) -> str:
        # Spelled out: dataclasses.asdict deep-copies and costs more than the dump.
        return json.dumps(
            {
                "summary": self.summary,
                "inputs": list(self.inputs),
                "outputs": list(self.outputs),
                "side_effects": list(self.side_effects),
                "pitfalls": list(self.pitfalls),
                "usage_snippet": self.usage_snippet,
                "tags": list(self.tags),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Gloss:
        """Load a gloss this process stored; it was validated before it was written."""
        data = json.loads(text)
        return cls(
            summary=data["summary"],
            inputs=tuple(data["inputs"]),
            outputs=tuple(data["outputs"]),
            side_effects=tuple(data["side_effects"]),
            pitfalls=tuple(data["pitfalls"]),
            usage_snippet=data["usage_snippet"],
            tags=tuple(data["tags"]),
        )


def parse_gloss(
    text: str, finish_reason: str | None = None, limits: dict[str, int] | None = None
) -> Gloss:
    """Validate a model's answer; raise GlossRejected naming what is wrong.

    `limits`: the span's `list_limits` (default: those of a span of unknown inputs).
    Too long is a rejection, never a cut: the answer is kept whole or not at all."""
    if limits is None:
        limits = _DEFAULT_LIMITS
    if finish_reason == "length":
        raise GlossRejected("cut_off", "the answer hit max_tokens before it finished")
    if len(text) > ANSWER_MAX_CHARS:
        raise GlossRejected(
            "answer_too_long", f"{len(text):,} characters (max {ANSWER_MAX_CHARS:,})"
        )
    try:
        # strict=False admits raw control characters (a newline, a tab) inside
        # strings: llama.cpp's JSON grammar lets small models emit them, and the
        # text is still the model's own. Nothing else is repaired.
        data = json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        raise GlossRejected("not_json", f"{exc.msg} at char {exc.pos}") from None
    if not isinstance(data, dict):
        raise GlossRejected("not_object", f"expected a JSON object, got {type(data).__name__}")
    missing = [f for f in FIELDS if f not in data]
    if missing:
        raise GlossRejected("missing_field", ", ".join(missing))
    for name in ("summary", "usage_snippet"):
        if not isinstance(data[name], str):
            raise GlossRejected("wrong_type", f"{name} must be a string")
    lists: dict[str, tuple[str, ...]] = {}
    for name in LIST_FIELDS:
        value = data[name]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise GlossRejected("wrong_type", f"{name} must be a list of strings")
        limit = limits[name]
        if len(value) > limit:
            raise GlossRejected("too_many_items", f"{name} has {len(value)} items (max {limit})")
        items = tuple(v.strip() for v in value)
        _check_item_lengths(name, items)
        lists[name] = items
    summary = data["summary"].strip()
    if not summary:
        raise GlossRejected("empty_summary")
    words = len(summary.split())
    if words > SUMMARY_MAX_WORDS:
        raise GlossRejected("summary_too_long", f"{words} words (max {SUMMARY_MAX_WORDS})")
    if len(summary) > SUMMARY_MAX_CHARS:
        raise GlossRejected(
            "summary_too_long", f"{len(summary):,} characters (max {SUMMARY_MAX_CHARS:,})"
        )
    usage = data["usage_snippet"].strip()
    if len(usage) > USAGE_MAX_CHARS:
        raise GlossRejected(
            "usage_too_long", f"{len(usage):,} characters (max {USAGE_MAX_CHARS:,})"
        )
    lines = usage.count("\n") + 1
    if lines > USAGE_MAX_LINES:
        raise GlossRejected("usage_too_long", f"{lines} lines (max {USAGE_MAX_LINES})")
    return Gloss(
        summary=summary,
        inputs=lists["inputs"],
        outputs=lists["outputs"],
        side_effects=lists["side_effects"],
        pitfalls=lists["pitfalls"],
        usage_snippet=usage,
        tags=lists["tags"],
    )


def _check_item_lengths(name: str, items: tuple[str, ...]) -> None:
    reason, limit = (
        ("tag_too_long", TAG_MAX_CHARS) if name == "tags" else ("item_too_long", ITEM_MAX_CHARS)
    )
    for index, item in enumerate(items):
        if len(item) > limit:
            raise GlossRejected(
                reason, f"{name}[{index}] has {len(item):,} characters (max {limit:,})"
            )
