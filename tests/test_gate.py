"""The quality gate: schema-valid but useless answers are rejected with a named reason."""

from __future__ import annotations

import pytest

from enrich_core.llm.gate import check_quality, parameter_names
from enrich_core.records.gloss import Gloss, GlossRejected
from enrich_core.source.spans import extract_spans

SOURCE = '''\
def fetch(url, *, timeout=5.0, **headers):
    """Download a page."""
    response = session.get(url, timeout=timeout, headers=headers)
    return response.content


class Box:
    pass
'''
FETCH, BOX = extract_spans("m.py", SOURCE)


def gloss(**changes: object) -> Gloss:
    fields: dict[str, object] = {
        "summary": "Downloads the page at a URL and returns its body as bytes.",
        "inputs": ("url: the page address", "timeout: seconds to wait"),
        "outputs": ("the response body",),
        "side_effects": ("network request",),
        "pitfalls": ("raises on connection errors",),
        "usage_snippet": "fetch('http://x')",
        "tags": ("http",),
    }
    fields.update(changes)
    return Gloss(**fields)  # type: ignore[arg-type]


def test_a_good_answer_passes() -> None:
    check_quality(gloss(), FETCH)
    # Inputs that are not parameters but plainly described reads are fine.
    check_quality(gloss(inputs=("url: address", "the HTTP session (module global)")), FETCH)
    check_quality(gloss(inputs=("**headers: extra headers",)), FETCH)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"summary": "N/A"}, "filler"),
        ({"summary": "Summary of the function."}, "filler"),
        ({"summary": "Fetches."}, "too_short"),
        ({"summary": "This is a summary of the code. It calls fetch in many ways."}, "filler"),
        ({"side_effects": ("pitfalls:",)}, "filler"),
        ({"pitfalls": ("}",)}, "filler"),
        ({"pitfalls": ("none",)}, "filler"),
        ({"tags": ("",)}, "filler"),
        (
            {"summary": "response = session.get(url, timeout=timeout, headers=headers)"},
            "copied_code",
        ),
        ({"summary": "def fetch(url, *, timeout=5.0, **headers)"}, "copied_code"),
        ({"inputs": ("path: a file", "mode: open mode")}, "invented_inputs"),
        (
            {"summary": "What the code does and why one would call it, in plain words"},
            "copied_prompt",
        ),
    ],
)
def test_useless_answers_are_rejected_by_name(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(GlossRejected) as info:
        check_quality(gloss(**changes), FETCH)
    assert info.value.reason == reason


def test_parameters_come_from_the_real_signature() -> None:
    assert parameter_names(FETCH) == frozenset({"url", "timeout", "headers"})
    assert parameter_names(BOX) is None  # a class: its inputs cannot be checked this way
    check_quality(gloss(inputs=("anything: goes",)), BOX)


def test_a_parameter_named_like_a_schema_field_is_an_input_not_an_echo() -> None:
    (tagged,) = extract_spans("t.py", "def label(item, tags):\n    return item, tags\n")
    check_quality(gloss(inputs=("item: the thing", "tags")), tagged)
    with pytest.raises(GlossRejected) as info:
        check_quality(gloss(inputs=("url: address", "tags")), FETCH)  # fetch has no `tags`
    assert info.value.reason == "filler"
