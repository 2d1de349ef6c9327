from enrich_core.present.words import plural


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert plural(1, "span") == "1 span"
    assert plural(0, "span") == "0 spans"
    assert plural(2, "span") == "2 spans"
    assert plural(3, "entry", "entries") == "3 entries"
    assert plural(1, "entry", "entries") == "1 entry"
