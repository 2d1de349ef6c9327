"""Fixtures of the fault suite: file systems that misbehave (read-only, full), mounted
for real and always unmounted. We run as root, so permissions stop nothing: a
read-only bind mount and a small tmpfs are the honest ways to get EROFS and ENOSPC.
Where the machine cannot mount, the test is skipped with the reason."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

MOUNT_LIMIT_S = 30.0

Mount = Callable[..., Path]


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["mount", *args], capture_output=True, text=True, timeout=MOUNT_LIMIT_S, check=False
    )


def _unmount(path: Path) -> None:
    done = subprocess.run(
        ["umount", str(path)], capture_output=True, text=True, timeout=MOUNT_LIMIT_S, check=False
    )
    if done.returncode != 0:
        # Busy (a process still holds a file): detach lazily rather than leave it mounted.
        subprocess.run(
            ["umount", "-l", str(path)], capture_output=True, timeout=MOUNT_LIMIT_S, check=False
        )


@pytest.fixture
def read_only_mount() -> Iterator[Callable[[Path], Path]]:
    """`read_only_mount(dir)`: the directory bind-mounted read-only onto itself."""
    mounted: list[Path] = []

    def mount(path: Path) -> Path:
        done = _mount("--bind", str(path), str(path))
        if done.returncode != 0:
            pytest.skip(f"cannot bind-mount {path}: {done.stderr.strip() or done.returncode}")
        mounted.append(path)
        done = _mount("-o", "remount,ro,bind", str(path))
        if done.returncode != 0:
            pytest.skip(f"cannot remount {path} read-only: {done.stderr.strip()}")
        return path

    yield mount
    for path in reversed(mounted):
        _unmount(path)


@pytest.fixture
def small_tmpfs() -> Iterator[Callable[[Path, str], Path]]:
    """`small_tmpfs(dir, "1m")`: a tmpfs of that size mounted on the (new) directory."""
    mounted: list[Path] = []

    def mount(path: Path, size: str) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        done = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs on {path}: {done.stderr.strip()}")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        _unmount(path)
