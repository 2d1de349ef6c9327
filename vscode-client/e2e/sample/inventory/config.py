"""Reading the application's settings."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


def load_config(path: Path, environ: dict[str, str] | None = None) -> Settings:
    """Read settings from a JSON file; environment variables override the file."""
    env = os.environ if environ is None else environ
    data = json.loads(path.read_text(encoding="utf-8"))
    stock_path = Path(env.get("INVENTORY_STOCK", data["stock_path"]))
    level = int(env.get("INVENTORY_REORDER_LEVEL", data.get("reorder_level", 5)))
    return Settings(stock_path=stock_path, reorder_level=level)


@dataclass(frozen=True)
class Settings:
    """Where the stock file lives and how low stock may fall before reordering."""

    stock_path: Path
    reorder_level: int = 5
