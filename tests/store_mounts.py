"""Real file systems a store can sit on: a read-only bind mount and a small tmpfs.

We run as root, and root ignores file modes (chmod 444 is no read-only), so
the tests mount. Where mounting is impossible (no privilege, no tmpfs) the
test is skipped with the reason. Every mount is undone when its block ends.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

FILL_CHUNK = 64 * 1024


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here (mount {' '.join(args)}): {done.stderr.strip()}")


def _umount(target: Path) -> None:
    done = subprocess.run(["umount", str(target)], capture_output=True, timeout=30, check=False)
    if done.returncode != 0:
        # Still in use (a test failed with files open): detach it now, never leak it.
        subprocess.run(["umount", "-l", str(target)], capture_output=True, timeout=30, check=False)


@contextlib.contextmanager
def read_only_view(source: Path, target: Path) -> Iterator[Path]:
    """`source` seen read-only at `target` (`source` itself when they are the same)."""
    target.mkdir(parents=True, exist_ok=True)
    _mount("-o", "bind", str(source), str(target))
    try:
        _mount("-o", "remount,ro,bind", str(target))
        yield target
    finally:
        _umount(target)


@contextlib.contextmanager
def small_disk(target: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (e.g. "4m") at `target`."""
    target.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target))
    try:
        yield target
    finally:
        _umount(target)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; delete it to free the space again."""
    filler = disk / "filler.bin"
    chunk = b"\0" * FILL_CHUNK
    with filler.open("wb", buffering=0) as f:
        for _ in range(1 << 16):  # 4 GB at most: a tmpfs of a few MB fills long before
            try:
                f.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
        else:
            raise AssertionError(f"{disk} never filled")
    # Small writes, to take the last partial pages too.
    with filler.open("ab", buffering=0) as f:
        for _ in range(FILL_CHUNK):
            try:
                f.write(b"\0" * 512)
            except OSError:
                break
    return filler


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()
