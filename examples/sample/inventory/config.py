"""Configuration loading for the inventory service."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Runtime settings, read once at start-up."""

    database_url: str
    page_size: int = 50
    read_only: bool = False


def load_config(path: Path, environ: dict[str, str] | None = None) -> Settings:
    """Read settings from a JSON file; environment variables override the file."""
    env = os.environ if environ is None else environ
    data = json.loads(path.read_text(encoding="utf-8"))
    if "INVENTORY_DATABASE_URL" in env:
        data["database_url"] = env["INVENTORY_DATABASE_URL"]
    if "INVENTORY_PAGE_SIZE" in env:
        data["page_size"] = int(env["INVENTORY_PAGE_SIZE"])
    return Settings(**data)
