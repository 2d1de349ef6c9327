"""Workspaces and configurations the benches build, and the checkout they measure."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from enrich_core.config import Config, parse_config

MODEL: Final = "bench-model:7b"


TIER: Final = "bench"


SPANS_PER_FILE: Final = 25


REQUEST_TIMEOUT_S: Final = 60.0


def function_source(i: int) -> str:
    """A small function, distinct for each `i` (so each has its own content hash)."""
    return (
        f"def scaled_total_{i:05d}(values: list[int], scale: int = {i % 7 + 2}) -> int:\n"
        f'    """Sum the values, each scaled and offset by {i} (bench span {i})."""\n'
        f"    total = {i}\n"
        f"    for value in values:\n"
        f"        if value % {i % 5 + 2} == 0:\n"
        f"            total += value * scale\n"
        f"        else:\n"
        f"            total -= value\n"
        f"    return total\n"
    )


def write_workspace(root: Path, count: int, per_file: int = SPANS_PER_FILE) -> list[str]:
    """`count` functions in files of `per_file` under `root/src`; their relative paths."""
    src = root / "src"
    src.mkdir(parents=True, exist_ok=True)
    paths: list[str] = []
    for start in range(0, count, per_file):
        rel = f"src/module_{start // per_file:03d}.py"
        funcs = [function_source(i) for i in range(start, min(count, start + per_file))]
        (root / rel).write_text(f'"""Bench module {rel}."""\n\n\n' + "\n\n".join(funcs))
        paths.append(rel)
    return paths


def bench_config(
    hosts: Sequence[tuple[str, int]], db_path: Path, *, timeout_s: float = REQUEST_TIMEOUT_S
) -> Config:
    """One Ollama backend per (url, max_concurrency), all in one tier, in that order."""
    names = [f"host{i}" for i in range(len(hosts))]
    data: dict[str, Any] = {
        "store": {"path": str(db_path)},
        "backends": [
            {
                "name": name,
                "kind": "ollama",
                "url": url,
                "max_concurrency": cap,
                "timeout_s": timeout_s,
                "max_retries": 0,
            }
            for name, (url, cap) in zip(names, hosts, strict=True)
        ],
        "tiers": [{"name": TIER, "model": MODEL, "backends": names}],
    }
    return parse_config(data, source="bench")


def source_commit() -> str | None:
    """The checked-out commit, "+dirty" if enrich_core/ has changes: the engine under test
    (read when a run starts, as the engine is imported then)."""
    repo = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str:
        run = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, timeout=10, check=True
        )
        return run.stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "enrich_core")
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")
