"""Request bodies with their shared parts encoded once: the same bytes as encoding it whole."""

from __future__ import annotations

import json
from typing import Any

import pytest

from enrich_core.llm.body_json import Verbatim, encode_body
from enrich_core.llm.outbound import SYSTEM_PROMPT
from enrich_core.records.gloss import GLOSS_SCHEMA


def _plain(body: Any) -> bytes:
    """What httpx's `json=` sends."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _unwrapped(value: Any) -> Any:
    if isinstance(value, Verbatim):
        return value.value
    if isinstance(value, dict):
        return {k: _unwrapped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrapped(v) for v in value]
    return value


def _body(user_text: str) -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [
            {"role": "system", "content": Verbatim(SYSTEM_PROMPT)},
            {"role": "user", "content": user_text},
        ],
        "format": Verbatim(GLOSS_SCHEMA),
        "options": {"json_schema": {"schema": Verbatim(GLOSS_SCHEMA), "strict": True}},
    }


@pytest.mark.parametrize(
    "user_text",
    [
        "Symbol: f\nCode:\n```python\ndef f(): pass\n```",
        "unicode: é ☃ \u202e and \x00 and quotes \" ' \\",
        # Text from outside that reads like the placeholder, whole or in part.
        "\x00gloss-verbatim-0\x00",
        '"\x00gloss-verbatim-1\x00"',
        ':"\x00gloss-verbatim-0\x00"',
    ],
)
def test_the_bytes_are_those_of_the_whole_body_encoded(user_text: str) -> None:
    body = _body(user_text)
    assert encode_body(body) == _plain(_unwrapped(body))
    assert encode_body(body) == encode_body(body)  # and again, from the kept parts


def test_a_value_that_is_not_verbatim_or_json_is_refused() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode_body({"x": object()})
    with pytest.raises(ValueError):
        encode_body({"x": float("nan")})


def test_many_distinct_parts_still_encode_right() -> None:
    parts = [{"n": i} for i in range(100)]  # past the parts kept encoded
    body = {"items": [{"part": Verbatim(p)} for p in parts]}
    assert encode_body(body) == _plain(_unwrapped(body))
