"""The circuit breaker, on a fake clock: opens after repeated failures, probes, recovers."""

from __future__ import annotations

from enrich_core.llm.breaker import Breaker, BreakerState


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_then_one_probe_then_closes() -> None:
    clock = Clock()
    b = Breaker(threshold=3, cooldown_s=10.0, clock=clock)
    for _ in range(2):
        assert b.allow()
        b.record_failure("refused")
    assert b.state is BreakerState.CLOSED
    b.record_failure("refused")
    assert b.state is BreakerState.OPEN  # type: ignore[comparison-overlap]  # mypy narrowed it
    assert not b.allow()
    assert b.retry_in() == 10.0
    clock.now = 10.0
    assert b.state is BreakerState.HALF_OPEN
    assert b.allow()  # the one probe
    assert not b.allow()  # nobody else while it is out
    b.record_success()
    assert b.state is BreakerState.CLOSED and b.allow() and b.last_error is None


def test_a_failed_probe_opens_it_again_for_a_full_cooldown() -> None:
    clock = Clock()
    b = Breaker(threshold=1, cooldown_s=5.0, clock=clock)
    b.record_failure("timeout")
    clock.now = 5.0
    assert b.allow()
    b.record_failure("timeout again")
    assert b.state is BreakerState.OPEN and b.last_error == "timeout again"
    clock.now = 9.9
    assert not b.allow()
    clock.now = 10.0
    assert b.allow()
