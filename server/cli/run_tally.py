"""What one `gloss index` run has done so far, counted from the engine's reports.

Spans, not answers: each span the run resolves is counted once, glossed or
failed (an index run tries each span once, see Engine.retry_on_timer). Model
calls are counted apart, from the router's attempt events: first requests,
requests on a later tier (escalations) and retries on a host. The progress bar
draws it while the run goes on; the summary prints it at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from enrich_core.records.attempt import AttemptEvent, AttemptPhase
from enrich_core.records.result import GlossResult
from enrich_core.run.scheduler import SpanRef


@dataclass
class RunTally:
    glossed: int = 0
    failed: int = 0
    dropped: int = 0  # spans whose file went mid-run: they leave the work to do
    calls: int = 0  # requests sent to a model
    escalations: int = 0  # a span's first request on a tier after its first one
    retries: int = 0  # a span's further request on a tier (same host again, or failover)
    in_flight: dict[str, int] = field(default_factory=dict)  # tier -> requests out now
    waiting: set[str] = field(default_factory=set)  # spans in a backoff or a host's rest
    # Told after every change (the bar redraws, at most every so often).
    on_change: Callable[[], None] | None = None

    @property
    def resolved(self) -> int:
        return self.glossed + self.failed

    def result(self, ref: SpanRef, result: GlossResult) -> None:
        """An engine result listener: one span resolved."""
        if result.gloss is not None:
            self.glossed += 1
        else:
            self.failed += 1
        self.waiting.discard(ref.content_hash)
        self._changed()

    def drop(self, spans: int) -> None:
        """An engine drop listener: spans that left the queue unglossed (their file went)."""
        self.dropped += spans
        self._changed()

    def attempt(self, event: AttemptEvent) -> None:
        """An engine attempt listener: a request out or back, or a span waiting."""
        if event.phase is AttemptPhase.STARTED:
            self.calls += 1
            if event.retry:
                self.retries += 1
            elif event.escalated:
                self.escalations += 1
            self.in_flight[event.tier] = self.in_flight.get(event.tier, 0) + 1
            self.waiting.discard(event.content_hash)
        elif event.phase is AttemptPhase.ENDED:
            self.in_flight[event.tier] = max(0, self.in_flight.get(event.tier, 0) - 1)
        else:
            self.waiting.add(event.content_hash)
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
