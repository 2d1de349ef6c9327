"""Filling a (small, mounted) file system, for the full-disk cases."""

from __future__ import annotations

from pathlib import Path


def fill(disk: Path) -> Path:
    """Write a file until the file system is full (bounded by its size)."""
    filler = disk / "filler.bin"
    block = b"\0" * 65536
    with filler.open("wb") as fh:
        for _ in range(100_000):
            try:
                fh.write(block)
                fh.flush()
            except OSError:
                break
    return filler
