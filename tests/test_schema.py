"""The gloss schema and its validation: every rejection has a name; nothing is repaired."""

from __future__ import annotations

import json
from typing import Any

import pytest

from enrich_core.records.gloss import (
    ANSWER_MAX_CHARS,
    FIELDS,
    GLOSS_SCHEMA,
    INPUTS_MAX_ITEMS,
    ITEM_MAX_CHARS,
    LIST_FIELDS,
    SUMMARY_MAX_CHARS,
    TAG_MAX_CHARS,
    USAGE_MAX_CHARS,
    USAGE_MAX_LINES,
    Gloss,
    GlossRejected,
    gloss_schema,
    list_limits,
    parse_gloss,
)


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


@pytest.mark.parametrize(
    ("parameters", "inputs_max"),
    [(None, 8), (0, 8), (4, 8), (5, 9), (16, 20), (44, 48), (45, 48), (10_000, INPUTS_MAX_ITEMS)],
)
def test_the_inputs_bound_follows_the_parameters_and_every_array_stays_bounded(
    parameters: int | None, inputs_max: int
) -> None:
    limits = list_limits(parameters)
    assert limits == {"inputs": inputs_max, "outputs": 8, "side_effects": 8, "pitfalls": 8,
                      "tags": 8}  # fmt: skip
    schema = gloss_schema(parameters)
    assert {f: schema["properties"][f]["maxItems"] for f in LIST_FIELDS} == limits
    assert gloss_schema(parameters) is schema  # one dict per bound: a body encodes it once
    assert "maxLength" not in json.dumps(schema)


def test_the_default_schema_is_that_of_a_span_of_unknown_inputs() -> None:
    assert GLOSS_SCHEMA is gloss_schema(None)
    assert GLOSS_SCHEMA["properties"]["inputs"]["maxItems"] == 8


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
        # Every field is bounded, not only the summary's words (issue 11: a 5 MB
        # answer whose bulk was one list item or the usage snippet was stored).
        (answer(pitfalls=["x" * 5_000_000]), None, "answer_too_long"),
        (answer(usage_snippet="add(1, 2)\n" * 500_000), None, "answer_too_long"),
        (answer(comment="x" * ANSWER_MAX_CHARS), None, "answer_too_long"),
        (answer(summary="x" * (SUMMARY_MAX_CHARS + 1)), None, "summary_too_long"),
        (answer(summary="word " * 100 + "y" * SUMMARY_MAX_CHARS), None, "summary_too_long"),
        (answer(inputs=["a: " + "x" * ITEM_MAX_CHARS]), None, "item_too_long"),
        (answer(outputs=["the sum", "y" * (ITEM_MAX_CHARS + 1)]), None, "item_too_long"),
        (answer(side_effects=["z" * (ITEM_MAX_CHARS + 1)]), None, "item_too_long"),
        (answer(pitfalls=["p" * (ITEM_MAX_CHARS + 1)]), None, "item_too_long"),
        (answer(tags=["math", "t" * (TAG_MAX_CHARS + 1)]), None, "tag_too_long"),
        (answer(usage_snippet="a" * (USAGE_MAX_CHARS + 1)), None, "usage_too_long"),
        (answer(usage_snippet="x = 1\n" * (USAGE_MAX_LINES + 1)), None, "usage_too_long"),
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


def test_fields_at_their_bounds_are_accepted_whole() -> None:
    text = answer(
        summary="s" * SUMMARY_MAX_CHARS,
        inputs=["i" * ITEM_MAX_CHARS],
        pitfalls=["p" * ITEM_MAX_CHARS] * 2,
        usage_snippet="\n".join(["u" * 40] * USAGE_MAX_LINES),
        tags=["t" * TAG_MAX_CHARS],
    )
    assert len(text) <= ANSWER_MAX_CHARS
    gloss = parse_gloss(text, "stop")
    assert gloss.summary == "s" * SUMMARY_MAX_CHARS  # not cut: accepted whole or rejected
    assert gloss.pitfalls == ("p" * ITEM_MAX_CHARS,) * 2
    assert gloss.usage_snippet.count("\n") == USAGE_MAX_LINES - 1


def test_a_rich_gloss_from_a_big_model_fits_every_bound() -> None:
    # What a 14B coder model writes for a real method: every field well inside.
    text = answer(
        summary=(
            "Reserves `quantity` units of `sku` for an order, waiting on the ledger's lock so "
            "that concurrent reservations cannot oversell, and returns what is left on hand. "
            "Call it before charging the customer; release() undoes it if the order fails."
        ),
        inputs=[
            "sku: the stock-keeping unit to reserve, as returned by parse_order_line()",
            "quantity: how many units to hold; must be positive",
        ],
        outputs=["the units still on hand after the reservation", "raises OutOfStock"],
        side_effects=["decrements self._on_hand[sku] under self._lock"],
        pitfalls=[
            "Raises OutOfStock when fewer than `quantity` units are on hand, and then "
            "reserves nothing: a partial reservation is never made, so callers that want "
            "whatever is left must ask low_stock() first and reserve that amount instead.",
            "Not reentrant: calling it from a callback that already holds the lock deadlocks.",
        ],
        usage_snippet=(
            "ledger = StockLedger()\n"
            'ledger.receive("ABC-1", 10)\n'
            "try:\n"
            '    left = await ledger.reserve("ABC-1", 3)\n'
            "except OutOfStock:\n"
            '    notify_buyer("ABC-1")'
        ),
        tags=["inventory", "concurrency", "asyncio"],
    )
    assert parse_gloss(text, "stop").tags == ("inventory", "concurrency", "asyncio")


def test_a_huge_answer_is_refused_before_it_is_parsed() -> None:
    # The bound comes first: a 5 MB answer is never read into fields at all.
    text = '{"summary": "' + "x" * 5_000_000
    with pytest.raises(GlossRejected) as info:
        parse_gloss(text, "stop")
    assert info.value.reason == "answer_too_long"
    assert "5,000,013 characters" in info.value.detail
