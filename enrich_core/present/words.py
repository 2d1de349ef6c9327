"""Counts in sentences people read: "1 span", "2 spans", never "1 spans"."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`count` and the noun in the form that agrees with it ("1 file", "3 files",
    "2 entries" with `plural_form`)."""
    noun = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {noun}"
