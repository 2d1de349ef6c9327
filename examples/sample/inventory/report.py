"""Plain-text reports."""

from __future__ import annotations

from collections.abc import Iterable


def format_table(rows: Iterable[tuple[str, int]], width: int = 30) -> str:
    lines = []
    for name, count in rows:
        dots = "." * max(1, width - len(name) - len(str(count)))
        lines.append(f"{name}{dots}{count}")
    return "\n".join(lines)
