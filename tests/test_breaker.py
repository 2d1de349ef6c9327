"""The circuit breaker, on a fake clock: opens after repeated failures, probes, recovers,
is declared down after failed probes, and wakes whoever waits on it."""

from __future__ import annotations

import asyncio

from enrich_core.llm.breaker import (
    HISTORY_LENGTH,
    Admission,
    Breaker,
    BreakerState,
    wait_for_change,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, threshold: int = 3, cooldown_s: float = 10.0, probes: int = 3) -> Breaker:
    return Breaker(threshold, cooldown_s, probes, clock=clock, wall_clock=clock)


def test_opens_after_threshold_then_one_probe_then_closes() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(2):
        assert b.allow()
        b.record_failure("refused")
    assert b.state is BreakerState.CLOSED
    b.record_failure("refused")
    assert b.state is BreakerState.OPEN  # type: ignore[comparison-overlap]  # mypy narrowed it
    assert b.admit() is Admission.WAIT
    assert b.retry_in() == 10.0 and b.wait_hint() == 10.0
    clock.now = 10.0
    assert b.state is BreakerState.HALF_OPEN
    assert b.admit() is Admission.PROBE  # the one probe
    assert b.admit() is Admission.WAIT  # nobody else while it is out
    assert b.wait_hint() is None  # its outcome, not a timer, ends the wait
    b.record_success()
    assert b.state is BreakerState.CLOSED and b.allow() and b.last_error is None
    assert [t.state for t in b.history] == [BreakerState.OPEN, BreakerState.CLOSED]


def test_a_failed_probe_rests_it_again_for_a_full_cooldown() -> None:
    clock = Clock()
    b = breaker(clock, threshold=1, cooldown_s=5.0)
    b.record_failure("timeout")
    clock.now = 5.0
    assert b.admit() is Admission.PROBE
    b.record_failure("timeout again")
    assert b.state is BreakerState.OPEN and b.last_error == "timeout again"
    clock.now = 9.9
    assert not b.allow()
    clock.now = 10.0
    assert b.allow()


def test_failed_probes_in_a_row_declare_it_down_and_a_good_probe_brings_it_back() -> None:
    clock = Clock()
    b = breaker(clock, threshold=1, cooldown_s=15.0, probes=3)
    b.record_failure("server error: HTTP 500")
    for _ in range(3):
        clock.now += 15.0
        assert b.admit() is Admission.PROBE
        b.record_failure("server error: HTTP 500")
    assert b.state is BreakerState.DOWN
    assert b.admit() is Admission.DOWN  # spans fail now, they do not wait
    assert b.down_reason == "server error: HTTP 500 (3 probes failed over 45 s)"
    clock.now += 15.0
    assert b.admit() is Admission.PROBE  # still probed, less and less often
    b.record_failure("server error: HTTP 500")
    assert b.state is BreakerState.DOWN and b.retry_in() == 30.0
    assert b.down_reason == "server error: HTTP 500 (3 probes failed over 45 s)"  # stable
    clock.now += 30.0
    assert b.admit() is Admission.PROBE
    b.record_success()
    state: BreakerState = b.state  # a property: mypy would keep the narrowing above
    assert state is BreakerState.CLOSED and b.down_reason is None
    assert b.history[-1].state is BreakerState.CLOSED


def test_a_host_never_reached_that_refuses_is_down_at_once() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure("unreachable: connection refused", unreachable=True)
    assert b.state is BreakerState.DOWN
    assert b.down_reason is not None and "no answer since Gloss started" in b.down_reason


def test_a_host_that_answered_before_and_now_refuses_is_rested_not_down() -> None:
    clock = Clock()
    b = breaker(clock)
    b.record_success()
    for _ in range(3):
        b.record_failure("unreachable: connection refused", unreachable=True)
    assert b.state is BreakerState.OPEN  # a restart, most likely: waited out


def test_late_failures_do_not_lengthen_a_rest_and_a_late_answer_ends_it() -> None:
    clock = Clock()
    b = breaker(clock, threshold=1)
    b.record_failure("timeout")
    clock.now = 8.0
    b.record_failure("timeout")  # a request sent before the rest began
    assert b.retry_in() == 2.0
    b.record_success()  # another one, answered late: the host is there
    assert b.state is BreakerState.CLOSED


def test_retry_after_lengthens_the_rest_up_to_a_cap() -> None:
    clock = Clock()
    b = breaker(clock, threshold=1, cooldown_s=1.0)
    b.record_failure("rate limited: HTTP 429", retry_after=7.0)
    assert b.retry_in() == 7.0
    b2 = breaker(clock, threshold=1, cooldown_s=1.0)
    b2.record_failure("rate limited: HTTP 429", retry_after=1e9)
    assert b2.retry_in() == 300.0


def test_an_abandoned_probe_lets_another_waiter_probe() -> None:
    clock = Clock()
    b = breaker(clock, threshold=1)
    b.record_failure("timeout")
    clock.now = 10.0
    assert b.admit() is Admission.PROBE
    b.abandon_probe()
    assert b.admit() is Admission.PROBE


def test_history_is_bounded() -> None:
    clock = Clock()
    b = breaker(clock, threshold=1, cooldown_s=1.0, probes=1000)
    for _ in range(HISTORY_LENGTH * 3):
        clock.now += 1.0
        b.admit()
        b.record_failure("timeout")
    assert len(b.history) == HISTORY_LENGTH


async def test_waiters_wake_on_a_transition_not_on_a_timer() -> None:
    clock = Clock()
    b = breaker(clock, threshold=1)
    b.record_failure("timeout")
    clock.now = 10.0
    assert b.admit() is Admission.PROBE
    waiting = asyncio.create_task(wait_for_change([b], 60.0))
    await asyncio.sleep(0)
    assert not waiting.done()
    b.record_success()
    async with asyncio.timeout(5):  # woken by the transition, long before 60 s
        await waiting
    assert not b._waiters  # nothing left registered


async def test_a_wait_ends_at_its_timeout_when_nothing_changes() -> None:
    b = breaker(Clock(), threshold=1)
    b.record_failure("timeout")
    async with asyncio.timeout(5):
        await wait_for_change([b], 0.01)
    assert not b._waiters


def test_a_down_host_is_probed_less_often_up_to_a_cap() -> None:
    clock = Clock()
    b = breaker(clock, threshold=1, cooldown_s=100.0, probes=1)
    b.record_failure("timeout")
    rests = []
    for _ in range(4):
        clock.now += b.retry_in()
        assert b.admit() is Admission.PROBE
        b.record_failure("timeout")
        rests.append(b.retry_in())
    assert rests == [100.0, 200.0, 300.0, 300.0]  # MAX_REST_S


def test_a_host_asking_for_a_longer_pause_than_gloss_waits_is_down() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure("rate limited: HTTP 429", retry_after=3600.0)
    assert b.state is BreakerState.DOWN
    assert b.down_reason == (
        "rate limited: HTTP 429 (it asks to wait 3600 s; Gloss waits at most 30 s)"
    )
