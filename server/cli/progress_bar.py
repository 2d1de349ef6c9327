"""A terminal progress bar for `gloss index`, drawn on stderr only when it is a terminal.

It counts spans, not answers: spans resolved (glossed or failed) out of the
spans to gloss, so it never passes 100%, and it is full only once no span is
left queued or in flight. Beside the counts it says what is going on: the
tiers with requests out, spans waiting to retry on a host, escalations and
retries so far. For example:

    [############..................] 8/20 spans · 6 glossed · 2 failed
        · trying 'small' (2 in flight) · 1 escalated · 0:41        (one line)

On a pipe or in CI it prints nothing while running (a log full of carriage
returns helps no one); the command's final summary says what happened. It
shows counts and tier names only (from the configuration, escaped); backend
errors and span names are printed, escaped, by the summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TextIO

from enrich_core.present.terminal import terminal_safe
from enrich_core.present.words import plural
from server.cli.run_tally import RunTally

BAR_WIDTH = 30
REDRAW_EVERY_S = 0.1


class ProgressBar:
    """Draws a `RunTally` once the number of spans to gloss is known (`start`)."""

    def __init__(
        self,
        tally: RunTally,
        stream: TextIO,
        *,
        tiers: Sequence[str] = (),
        outstanding: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`tiers`: the configured order, in which tiers in flight are named.
        `outstanding`: spans still queued or being glossed (Engine.outstanding), so the
        bar is never full while work remains, even work queued after `start`."""
        self.tally = tally
        self.planned: int | None = None
        self._tiers = tuple(tiers)
        self._outstanding = outstanding
        self._stream = stream
        self._terminal = stream.isatty()
        self._clock = clock
        self._last_draw = 0.0
        self._last_width = 0
        self._started = clock()
        self._finished = False
        tally.on_change = self._maybe_draw

    def start(self, planned: int) -> None:
        """The scan has queued `planned` spans (some may be resolved already): draw."""
        self.planned = planned
        if planned > 0:
            self._draw()

    @property
    def total(self) -> int:
        """Spans to gloss in this run: those planned, less dropped, plus any queued since."""
        tally = self.tally
        planned = (self.planned or 0) - tally.dropped
        remaining = self._outstanding() if self._outstanding is not None else 0
        return max(planned, tally.resolved + remaining, tally.resolved)

    def line(self) -> str:
        """The bar as it stands, without the carriage return."""
        tally = self.tally
        total = self.total
        done = min(tally.resolved, total)
        # Rounded down: full only when every span to gloss is resolved.
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        parts = [
            f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{plural(total, 'span')}",
            f"{tally.glossed} glossed",
            f"{tally.failed} failed",
        ]
        if tally.dropped:
            parts.append(f"{tally.dropped} dropped (file gone)")
        if tally.waiting:
            parts.append(f"{len(tally.waiting)} waiting to retry")
        trying = [(t, n) for t, n in self._ordered_in_flight() if n > 0]
        if trying:
            first, *rest = trying
            named = [f"'{first[0]}' ({first[1]} in flight)"] + [f"'{t}' ({n})" for t, n in rest]
            parts.append("trying " + ", ".join(named))
        elif self._finished:
            parts.append("done" if done == total else "stopped")
        if tally.escalations:
            parts.append(f"{tally.escalations} escalated")
        if tally.retries:
            parts.append(plural(tally.retries, "retry", "retries"))
        parts.append(_elapsed(self._clock() - self._started))
        return terminal_safe(" · ".join(parts))

    def finish(self) -> None:
        """The run ended: the last figures, and a new line."""
        if self._finished:
            return
        self._finished = True
        if self._enabled():
            self._draw()
            self._stream.write("\n")
            self._stream.flush()

    def close(self) -> None:
        """After `finish`, nothing; else (interrupted, stopped by an error) end the line
        the bar was drawn on, so a message after it starts on a line of its own."""
        if self._finished:
            return
        self._finished = True
        if self._last_width:
            self._stream.write("\n")
            self._stream.flush()

    def _ordered_in_flight(self) -> list[tuple[str, int]]:
        known = [(t, self.tally.in_flight.get(t, 0)) for t in self._tiers]
        others = [(t, n) for t, n in self.tally.in_flight.items() if t not in self._tiers]
        return known + others

    def _enabled(self) -> bool:
        return self._terminal and self.planned is not None and self.total > 0

    def _maybe_draw(self) -> None:
        if self._enabled() and self._clock() - self._last_draw >= REDRAW_EVERY_S:
            self._draw()

    def _draw(self) -> None:
        if not self._enabled():
            return
        self._last_draw = self._clock()
        text = self.line()
        # Spaces over the rest of a longer line drawn before.
        pad = " " * max(0, self._last_width - len(text))
        self._last_width = len(text)
        self._stream.write(f"\r{text}{pad}")
        self._stream.flush()


def _elapsed(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
