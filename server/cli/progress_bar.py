"""A terminal progress bar for `gloss index`, drawn on stderr only when it is a terminal.

On a pipe or in CI it prints nothing while running (a log full of carriage
returns helps no one); the command's final summary says what happened. It
shows only counts: names and reasons, text from outside, are printed (escaped)
by the summary.
"""

from __future__ import annotations

import time
from typing import TextIO

BAR_WIDTH = 30
REDRAW_EVERY_S = 0.1


class ProgressBar:
    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.dropped = 0  # spans of files gone mid-run: they leave the bar's total
        self._stream = stream
        self._enabled = total > 0 and stream.isatty()
        self._last_draw = 0.0
        self._started = time.monotonic()

    def advance(self, ok: bool) -> None:
        self.done += 1
        if not ok:
            self.failed += 1
        now = time.monotonic()
        if self._enabled and (now - self._last_draw >= REDRAW_EVERY_S or self.done >= self.total):
            self._last_draw = now
            self._draw(now)

    def carry_over(self, earlier: ProgressBar) -> None:
        """Count what a bar made before this one's total was known counted (not drawn)."""
        self.done += earlier.done
        self.failed += earlier.failed
        self.dropped += earlier.dropped
        self._started = earlier._started

    def drop(self, spans: int) -> None:
        """Spans that left the queue unglossed (their file went)."""
        self.dropped += spans
        if self._enabled:
            self._draw(time.monotonic())

    def _draw(self, now: float) -> None:
        total = max(self.total - self.dropped, self.done)
        filled = int(BAR_WIDTH * self.done / total) if total else BAR_WIDTH
        rate = self.done / max(now - self._started, 1e-6)
        failed = f", {self.failed} failed" if self.failed else ""
        dropped = f", {self.dropped} dropped" if self.dropped else ""
        self._stream.write(
            f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.done}/{total} glossed"
            f"{failed}{dropped} ({rate:.1f}/s) "
        )
        self._stream.flush()

    def finish(self) -> None:
        if self._enabled:
            self._draw(time.monotonic())
            self._stream.write("\n")
            self._stream.flush()
