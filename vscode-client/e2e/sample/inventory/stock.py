"""Stock levels and what to reorder."""

from __future__ import annotations

import csv
from pathlib import Path


def read_stock(path: Path) -> dict[str, int]:
    """Item -> quantity from a two-column CSV file."""
    with path.open(newline="", encoding="utf-8") as fh:
        return {row[0]: int(row[1]) for row in csv.reader(fh) if row}


def to_reorder(stock: dict[str, int], level: int) -> list[str]:
    return sorted(item for item, qty in stock.items() if qty < level)
