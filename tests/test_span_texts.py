"""The parsed spans the engine keeps for the backlog: a budget of bytes, taken once, stale
files parsed again."""

from __future__ import annotations

from collections.abc import Callable

from enrich_core.source.indexer import SPAN_OVERHEAD_BYTES, FileStamp, SpanTexts
from enrich_core.source.parsed_file import ParsedFile
from enrich_core.source.spans import cut_spans


def _parsed(path: str, count: int, mtime_ns: int = 1) -> ParsedFile:
    text = "\n\n".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(count))
    cut = cut_spans(path, text)
    return ParsedFile(path, mtime_ns, len(text), cut.spans)


def _stamp_of(*parsed: ParsedFile) -> Callable[[str], FileStamp | None]:
    stamps = {p.path: (p.mtime_ns, p.size) for p in parsed}
    return stamps.get


def test_a_span_is_taken_once_and_the_file_leaves_when_empty() -> None:
    texts = SpanTexts()
    a = _parsed("a.py", 3)
    texts.remember(a)
    stamp = _stamp_of(a)
    first = a.spans[0]
    assert texts.take("a.py", first.content_hash, stamp) == first
    assert texts.take("a.py", first.content_hash, stamp) is None  # gone: glossed once
    for s in a.spans[1:]:
        assert texts.take("a.py", s.content_hash, stamp) == s
    assert texts.has_room()
    assert texts.take("b.py", first.content_hash, stamp) is None  # never parsed


def test_a_file_changed_or_deleted_since_its_parse_is_a_miss() -> None:
    texts = SpanTexts()
    a = _parsed("a.py", 2)
    texts.remember(a)
    changed = {"a.py": (a.mtime_ns + 1, a.size)}.get
    assert texts.take("a.py", a.spans[0].content_hash, changed) is None
    # Forgotten, so even the old stamp finds nothing: the file is parsed again.
    assert texts.take("a.py", a.spans[1].content_hash, _stamp_of(a)) is None
    texts.remember(a)
    assert texts.take("a.py", a.spans[1].content_hash, lambda rel: None) is None  # deleted


def test_the_budget_keeps_the_most_recent_files() -> None:
    files = [_parsed(f"m{i}.py", 4, mtime_ns=i) for i in range(6)]
    one_file = sum(SPAN_OVERHEAD_BYTES + len(s.text) + len(s.signature) for s in files[0].spans)
    texts = SpanTexts(budget_bytes=3 * one_file + one_file // 2)
    for parsed in files:
        texts.remember(parsed)
    stamp = _stamp_of(*files)
    held = [p.path for p in files if texts.take(p.path, p.spans[0].content_hash, stamp)]
    assert held == ["m3.py", "m4.py", "m5.py"]


def test_editor_buffers_win_and_are_not_taken_away() -> None:
    texts = SpanTexts()
    disk = _parsed("a.py", 1)
    texts.remember(disk)
    buffer = _parsed("a.py", 2, mtime_ns=0)
    texts.set_buffer(buffer)
    span = buffer.spans[1]
    assert texts.take("a.py", span.content_hash, lambda rel: None) == span
    assert texts.take("a.py", span.content_hash, lambda rel: None) == span
