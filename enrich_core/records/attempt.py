"""What the router is doing for a span right now: a request out on a tier, or a wait.

The router tells a listener (`Router(on_attempt=...)`, `Engine.add_attempt_listener`)
each time a request for a span goes out, comes back, or the span waits to try
again (a backoff after a failed request, or a resting host). `gloss index`'s bar
shows it: which tier is being tried, escalations, retries. The events carry no
model text and no span text; a listener must not block (it runs on the loop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class AttemptPhase(Enum):
    STARTED = "started"  # a request went out to `backend`
    ENDED = "ended"  # it came back (`answered`: with text; the gate judges it next)
    WAITING = "waiting"  # the span waits to try again: a backoff, or a resting host


@dataclass(frozen=True, slots=True)
class AttemptEvent:
    content_hash: str
    phase: AttemptPhase
    tier: str
    backend: str | None  # None while WAITING for a tier's resting hosts
    # The tier is past the one the span's shape chose (a rejected answer, or a tier
    # with no backend left for it, moved the span on).
    escalated: bool = False
    # STARTED: the span already had a request on this tier (the router's in-tier retry
    # on the same backend, or failover to another).
    retry: bool = False
    answered: bool = False  # ENDED: the backend answered (not an HTTP or network error)


AttemptListener = Callable[[AttemptEvent], None]
