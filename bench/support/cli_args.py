"""Argument types and report output the benchmarks share."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def write_report(text: str, data: Any, json_path: Path | None) -> None:
    """Print the human report; with --json also write the raw numbers there."""
    print(text)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {json_path}")
