"""The `gloss` command as the benches run it, in a process of its own."""

from __future__ import annotations

import sys
from pathlib import Path


def gloss_command(*args: str) -> list[str]:
    """`gloss ARGS`: the console script installed beside this Python, else the same
    entry point (`server.cli.main:main`) run by this Python."""
    script = Path(sys.executable).parent / "gloss"
    if script.is_file():
        return [str(script), *args]
    entry = "import sys; from server.cli.main import main; sys.exit(main())"
    return [sys.executable, "-c", entry, *args]
