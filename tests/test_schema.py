"""The gloss schema and its validation: every rejection has a name; nothing is repaired."""

from __future__ import annotations

import json
from typing import Any

import pytest

from enrich_core.records.gloss import FIELDS, GLOSS_SCHEMA, Gloss, GlossRejected, parse_gloss


def answer(**changes: Any) -> str:
    data: dict[str, Any] = {
        "summary": "Adds two numbers.",
        "inputs": ["a: first", "b: second"],
        "outputs": ["the sum"],
        "side_effects": [],
        "pitfalls": ["floats round"],
        "usage_snippet": "add(1, 2)",
        "tags": ["math"],
    }
    data.update(changes)
    return json.dumps(data)


def test_schema_bounds_arrays_but_not_strings() -> None:
    props = GLOSS_SCHEMA["properties"]
    assert set(GLOSS_SCHEMA["required"]) == set(FIELDS) == set(props)
    for name, prop in props.items():
        if prop["type"] == "array":
            assert prop["maxItems"] > 0
        assert "maxLength" not in prop, name


def test_valid_answer_round_trips() -> None:
    gloss = parse_gloss(answer(), "stop")
    assert gloss.summary == "Adds two numbers."
    assert gloss.inputs == ("a: first", "b: second")
    assert Gloss.from_json(gloss.to_json()) == gloss


@pytest.mark.parametrize(
    ("text", "finish", "reason"),
    [
        (answer(), "length", "cut_off"),
        ("not json at all", None, "not_json"),
        ('{"summary": "cut', None, "not_json"),
        ("[1, 2]", None, "not_object"),
        (json.dumps({"summary": "x"}), None, "missing_field"),
        (answer(inputs="a"), None, "wrong_type"),
        (answer(tags=[1]), None, "wrong_type"),
        (answer(summary=3), None, "wrong_type"),
        (answer(summary="   "), None, "empty_summary"),
        (answer(summary="word " * 121), None, "summary_too_long"),
        (answer(pitfalls=["p"] * 9), None, "too_many_items"),
    ],
)
def test_rejections_are_named(text: str, finish: str | None, reason: str) -> None:
    with pytest.raises(GlossRejected) as info:
        parse_gloss(text, finish)
    assert info.value.reason == reason


def test_raw_control_characters_inside_strings_are_accepted_as_written() -> None:
    raw = answer(summary="Adds two numbers.").replace("Adds two", "Adds\ttwo")
    raw = raw.replace('"math"', '"ma\nth"')
    gloss = parse_gloss(raw, "stop")
    assert gloss.summary == "Adds\ttwo numbers." and gloss.tags == ("ma\nth",)
