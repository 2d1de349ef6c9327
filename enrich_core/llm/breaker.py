"""A per-backend circuit breaker: a failing host is rested, probed, and at last declared down.

- closed: requests flow. `threshold` host failures in a row open it.
- open: the host rests for `cooldown_s` (longer if it asked so with Retry-After,
  up to a cap). Nobody sends; spans that need the host wait for the probe.
- half-open: the rest is over; exactly one request, the probe, goes out and the
  others wait for its outcome. Success closes the breaker, failure rests it again.
- down: `probes` probes failed in a row (or a host never reached since Gloss
  started refused `threshold` connections: nothing listens there). Spans stop
  waiting and fail at once with `down_reason`. The host is still probed, by a
  span that finds a probe due, each rest twice as long as the last (up to
  MAX_REST_S); a probe that succeeds closes it.

The breaker never sleeps, starts no task and holds no request: callers ask
`admit()`, report each outcome, and may wait for the next transition with
`wait_for_change` (a plain future, resolved by the transition), bounded by
`wait_hint()`. Its transitions are kept, bounded, for `gloss status`. A task
may set `waiting_listener` to be told when it starts and stops waiting (the
work pool lends a waiting worker's place to other work, run/pool.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum, StrEnum

HISTORY_LENGTH = 20
# A host's Retry-After lengthens its rest at most to this.
MAX_REST_S = 300.0
# The longest Retry-After Gloss waits out. A host asking for more (a quota spent
# for the hour) is declared down when it trips the breaker, saying what it asked:
# waiting an hour inside `gloss index` would look like a hang.
RETRY_AFTER_CAP_S = 30.0

# Told True when the current task starts to wait in `wait_for_change` and False
# when it stops. A context variable, so the router between the work pool and
# the breaker passes nothing along: the pool sets it once in each worker task.
waiting_listener: ContextVar[Callable[[bool], None] | None] = ContextVar(
    "gloss_breaker_waiting_listener", default=None
)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"
    DOWN = "down"


class Admission(Enum):
    SEND = "send"  # closed: send
    PROBE = "probe"  # this request is the probe: report its outcome, or abandon it
    WAIT = "wait"  # resting, or the probe is out: wait, it is not a failure
    DOWN = "down"  # declared down: fail now, with `down_reason`


@dataclass(frozen=True, slots=True)
class Transition:
    """One change of state: when (wall clock, seconds since the epoch), to what, and why."""

    at: float
    state: BreakerState
    error: str | None


class Breaker:
    def __init__(
        self,
        threshold: int = 3,
        cooldown_s: float = 15.0,
        probes: int = 3,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.probes = probes
        self._clock = clock
        self._wall_clock = wall_clock
        self._failures = 0  # host failures in a row while closed
        self._failed_probes = 0
        self._rest_until: float | None = None  # None: closed
        self._probing = False
        self._down = False
        self._ever_answered = False
        self._trouble_since: float | None = None  # the first failure of this run
        self.last_error: str | None = None
        self.down_reason: str | None = None
        self.history: deque[Transition] = deque(maxlen=HISTORY_LENGTH)
        self._waiters: set[asyncio.Future[None]] = set()

    @property
    def state(self) -> BreakerState:
        if self._rest_until is None:
            return BreakerState.CLOSED
        if self._down:
            return BreakerState.DOWN
        if self._probing or self._clock() >= self._rest_until:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    @property
    def probing(self) -> bool:
        return self._probing

    @property
    def failures_in_a_row(self) -> int:
        """Host failures since its last answer (while closed; past the threshold it rests)."""
        return self._failures

    def retry_in(self) -> float:
        """Seconds until the next probe may go out (0 when closed or due)."""
        if self._rest_until is None:
            return 0.0
        return max(0.0, self._rest_until - self._clock())

    def wait_hint(self) -> float | None:
        """How long a waiter may sleep before asking again: until the probe is due,
        or None while the probe is out (its outcome is a transition)."""
        return None if self._probing else self.retry_in()

    def admit(self) -> Admission:
        if self._rest_until is None:
            return Admission.SEND
        if not self._probing and self._clock() >= self._rest_until:
            self._probing = True
            return Admission.PROBE
        return Admission.DOWN if self._down else Admission.WAIT

    def allow(self) -> bool:
        """Whether a request may go out now (taking the probe if one is due)."""
        return self.admit() in (Admission.SEND, Admission.PROBE)

    def record_success(self) -> None:
        """The host answered (even "model missing" is an answer): closed again."""
        self._ever_answered = True
        self.last_error = None
        if self._rest_until is None:
            self._failures = 0
            return
        # A probe's success, or an answer to a request sent before the rest began:
        # either way the host answers.
        self._failures = 0
        self._failed_probes = 0
        self._rest_until = None
        self._probing = False
        self._down = False
        self.down_reason = None
        self._trouble_since = None
        self._transition(BreakerState.CLOSED, None)

    def record_failure(
        self,
        error: str,
        *,
        retry_after: float | None = None,
        unreachable: bool = False,
    ) -> None:
        """A host failure. `unreachable`: nothing accepted the connection. While the
        probe is out, a failure is taken as the probe's (a request sent before the
        rest that fails late says the same about the host)."""
        self.last_error = error
        now = self._clock()
        if self._trouble_since is None:
            self._trouble_since = now
        if self._probing:
            self._probing = False
            self._failed_probes += 1
            was_down = self._down
            if not self._down and self._failed_probes >= self.probes:
                over = now - self._trouble_since
                self._declare_down(
                    f"{error} ({self._failed_probes} probes failed over {over:.0f} s)"
                )
            # A host already down is probed less and less often (each probe is a
            # span's request, and costs it up to timeout_s): twice the rest each time.
            longer = 2.0 ** (self._failed_probes - self.probes) if was_down else 1.0
            self._rest(now, retry_after, longer)
            self._transition(BreakerState.DOWN if self._down else BreakerState.OPEN, error)
            return
        if self._rest_until is not None:
            return  # sent before the host was rested: the rest stands as it is
        self._failures += 1
        if self._failures < self.threshold:
            return
        if unreachable and not self._ever_answered:
            self._declare_down(f"{error} (no answer since Gloss started, {self._failures} tries)")
        elif retry_after is not None and retry_after > RETRY_AFTER_CAP_S:
            self._declare_down(
                f"{error} (it asks to wait {retry_after:g} s; Gloss waits at most "
                f"{RETRY_AFTER_CAP_S:g} s)"
            )
        self._rest(now, retry_after)
        self._transition(BreakerState.DOWN if self._down else BreakerState.OPEN, error)

    def abandon_probe(self) -> None:
        """The probe ended without an outcome (cancelled): another waiter may probe."""
        if self._probing:
            self._probing = False
            self._wake()

    def _declare_down(self, reason: str) -> None:
        self._down = True
        self.down_reason = reason

    def _rest(self, now: float, retry_after: float | None, longer: float = 1.0) -> None:
        rest = min(self.cooldown_s * longer, max(self.cooldown_s, MAX_REST_S))
        if retry_after is not None:
            rest = max(rest, min(retry_after, MAX_REST_S))  # a down host's probe waits too
        self._rest_until = now + rest

    def _transition(self, state: BreakerState, error: str | None) -> None:
        self.history.append(Transition(self._wall_clock(), state, error))
        self._wake()

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()


async def wait_for_change(breakers: Iterable[Breaker], timeout_s: float) -> None:
    """Until one of `breakers` changes state (or frees its probe), or `timeout_s` passes."""
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    watched = list(breakers)
    for breaker in watched:
        breaker._waiters.add(waiter)
    listener = waiting_listener.get()
    if listener is not None:
        listener(True)
    try:
        async with asyncio.timeout(timeout_s):
            await waiter
    except TimeoutError:
        pass
    finally:
        for breaker in watched:
            breaker._waiters.discard(waiter)
        if listener is not None:
            listener(False)
