"""A request body as JSON bytes, its parts that every request repeats encoded once.

Every gloss request carries the same JSON schema and the same instructions
(over half of its bytes, most of its objects), and only the span's own text
differs. Encoding the whole body each time was a good part of Gloss's own CPU
per request against a fast host, so a part wrapped in `Verbatim` is encoded
once and its JSON spliced into each body. The bytes are exactly what
`json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)`
(httpx's `json=`) gives for the body with the parts unwrapped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

# The placeholder a Verbatim part stands as while the rest is encoded. It is
# found again as `:"<mark>"`: a dict's value. No text inside a JSON string reads
# so, since a quote in a string is written `\"`.
_MARK: Final = "\x00gloss-verbatim-{}\x00"
# Distinct parts kept encoded; past this, a part is encoded with its body.
_MAX_PARTS: Final = 32


class Verbatim:
    """A dict value that many bodies share by identity (a module-level constant)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _dumps(value: Any, default: Any = None) -> str:
    return json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=default
    )


@dataclass(frozen=True, slots=True)
class _Part:
    value: Any  # held, so its id is not reused by another object
    mark: str  # the placeholder string
    found_as: str  # how the placeholder reads in the encoded body
    spliced_as: str  # what replaces it there


_parts: dict[int, _Part] = {}  # by id(value)


def _part(value: Any) -> _Part | None:
    part = _parts.get(id(value))
    if part is None or part.value is not value:
        if len(_parts) >= _MAX_PARTS:
            return None
        mark = _MARK.format(len(_parts))
        part = _Part(value, mark, ":" + _dumps(mark), ":" + _dumps(value))
        _parts[id(value)] = part
    return part


def encode_body(body: Any) -> bytes:
    """`body` as JSON bytes, each `Verbatim` part in it replaced by its value's JSON."""
    used: list[_Part] = []

    def placeholder(obj: Any) -> Any:
        if not isinstance(obj, Verbatim):
            raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")
        part = _part(obj.value)
        if part is None:
            return obj.value
        used.append(part)
        return part.mark

    text = _dumps(body, placeholder)
    for part in used:
        text = text.replace(part.found_as, part.spliced_as, 1)
    return text.encode()
