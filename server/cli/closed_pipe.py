"""Output that outlives its reader: `gloss status | head` or `gloss index 2>&1 | head -1`.

Once the reader closes the pipe, every write to it fails (EPIPE, BrokenPipeError in
Python). Were that to end the command, `gloss index` would stop glossing because
no one reads its progress, and the exit code would say nothing of the work. So a
write that meets a closed pipe points the stream's file at /dev/null, and the
command runs on to its end, quietly, and exits with the code its work earned.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO, cast


class PipeProof:
    """A text stream whose writes to a closed pipe go to /dev/null instead of raising.
    Everything else (isatty, encoding, fileno...) is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._reader_left()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._reader_left()

    def _reader_left(self) -> None:
        self.reader_gone = True
        to_devnull(self._stream)
        # What was buffered for the reader goes to /dev/null now, not to the next write.
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def to_devnull(stream: TextIO) -> None:
    """Point the stream's file descriptor at /dev/null (a stream with none: left alone)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError):  # no descriptor: pytest's capture, a StringIO
        pass
    finally:
        os.close(devnull)


@contextlib.contextmanager
def pipe_proof_output() -> Iterator[None]:
    """sys.stdout and sys.stderr as `PipeProof`s inside the block; flushed at its end."""
    saved = sys.stdout, sys.stderr
    out, err = PipeProof(saved[0]), PipeProof(saved[1])
    sys.stdout, sys.stderr = cast(TextIO, out), cast(TextIO, err)
    try:
        yield
    finally:
        out.flush()
        err.flush()
        sys.stdout, sys.stderr = saved
